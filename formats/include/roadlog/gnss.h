/* GNSS receiver protocols: NMEA 0183 sentences (nmea.c) and u-blox UBX
 * binary frames (ubx.c). Each has a typed parser for the viewer and the
 * simulator, an encoder for the simulator and the tests, and a decoder for
 * `cat --decode` (rl_decoder_nmea, rl_decoder_ubx in decode.h).
 *
 * Absent values: NMEA sentences leave fields empty when the receiver has no
 * value (no fix yet). The typed structs never turn an empty field into a
 * number: doubles are NaN, integers are -1 (RL_NMEA_ABSENT), characters are
 * '\0', times and dates have valid = false. The decoders write JSON null.
 *
 * All functions are pure (no globals, no allocation) and safe to call from
 * several threads on different data. */
#ifndef ROADLOG_GNSS_H
#define ROADLOG_GNSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

/* ------------------------------------------------------------------------ */
/* NMEA 0183                                                                */
/* ------------------------------------------------------------------------ */

/* The standard limits a sentence to 82 characters from '$' to LF;
 * receivers exceed it (Unicore's GSV, proprietary sentences), so roadlog
 * accepts up to RL_NMEA_MAX_LEN and never writes more than the standard. */
#define RL_NMEA_STD_MAX_LEN 82
#define RL_NMEA_MAX_LEN     256
#define RL_NMEA_MAX_FIELDS  64   /* data fields after the address */
#define RL_NMEA_MAX_ADDRESS 10   /* "GNGGA", "PSRFEPE", "GYOACC" */
#define RL_NMEA_ABSENT      (-1) /* integer value of an empty field */
#define RL_NMEA_GSA_PRNS    12   /* satellite slots of a GSA sentence */
#define RL_NMEA_GSV_SATS    4    /* satellites per GSV sentence */
#define RL_NMEA_MODE_MAX    8    /* GNS mode indicator characters, one per system */

enum rl_nmea_kind {
    RL_NMEA_UNKNOWN = 0, /* well formed, of a sentence type not decoded here */
    RL_NMEA_PROPRIETARY, /* "$P" + manufacturer code: raw fields only */
    RL_NMEA_GGA,
    RL_NMEA_RMC,
    RL_NMEA_VTG,
    RL_NMEA_HDT,
    RL_NMEA_GST,
    RL_NMEA_GSA,
    RL_NMEA_GSV,
    RL_NMEA_ZDA,
    RL_NMEA_GNS,
};

/* UTC time of day. tod_ns counts from midnight (a leap second gives up to
 * 86,400,999,999,999); frac_digits is how many fraction digits the sentence
 * carried, so the time can be printed as it was sent. */
struct rl_nmea_time {
    bool valid;
    uint8_t frac_digits;
    int64_t tod_ns;
};

/* A calendar date. Two-digit years (RMC) map to 1980..2079. */
struct rl_nmea_date {
    bool valid;
    uint16_t year;
    uint8_t month, day;
};

struct rl_nmea_gga {
    struct rl_nmea_time time;
    double lat_deg, lon_deg; /* signed: north and east positive */
    int fix_quality;         /* 0 invalid, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float, 6 DR, ... */
    int num_satellites;
    double hdop;
    double altitude_m;         /* above mean sea level */
    double geoid_separation_m; /* geoid above the WGS-84 ellipsoid */
    double dgps_age_s;
    int dgps_station;
};

struct rl_nmea_rmc {
    struct rl_nmea_time time;
    char status; /* 'A' valid, 'V' warning */
    double lat_deg, lon_deg;
    double speed_knots, speed_mps;
    double course_deg; /* over ground, true */
    struct rl_nmea_date date;
    double mag_variation_deg; /* east positive */
    char mode;                /* NMEA 2.3+: A autonomous, D differential, E DR, N invalid, ... */
    char nav_status;          /* NMEA 4.1+: S safe, C caution, U unsafe, V invalid */
};

struct rl_nmea_vtg {
    double course_true_deg, course_mag_deg;
    double speed_knots, speed_kmh;
    double speed_mps; /* from knots, else from km/h */
    char mode;
};

struct rl_nmea_hdt {
    double heading_deg; /* true heading */
};

struct rl_nmea_gst {
    struct rl_nmea_time time;
    double rms_m;            /* RMS of the pseudorange residuals */
    double major_m, minor_m; /* error ellipse semi-axes, 1 sigma */
    double orientation_deg;  /* of the semi-major axis, from true north */
    double lat_sigma_m, lon_sigma_m, alt_sigma_m;
};

struct rl_nmea_gsa {
    char mode;                 /* 'M' manual, 'A' automatic */
    int fix_type;              /* 1 none, 2 2D, 3 3D */
    int prn[RL_NMEA_GSA_PRNS]; /* satellites used; RL_NMEA_ABSENT in empty slots */
    double pdop, hdop, vdop;
    int system_id; /* NMEA 4.1+: 1 GPS, 2 GLONASS, 3 Galileo, 4 BeiDou, 5 QZSS */
};

struct rl_nmea_gsv_sat {
    int prn, elevation_deg, azimuth_deg, snr_dbhz;
};

struct rl_nmea_gsv {
    int num_messages, message_number, satellites_in_view;
    int n_sats; /* satellite blocks present in this sentence, 0..4 */
    struct rl_nmea_gsv_sat sats[RL_NMEA_GSV_SATS];
    int signal_id; /* NMEA 4.1+, hexadecimal digit */
};

struct rl_nmea_zda {
    struct rl_nmea_time time;
    struct rl_nmea_date date; /* valid when day, month and year are all present */
    int local_zone_hours, local_zone_minutes;
};

struct rl_nmea_gns {
    struct rl_nmea_time time;
    double lat_deg, lon_deg;
    char mode[RL_NMEA_MODE_MAX + 1]; /* one character per system, "" when empty */
    int num_satellites;
    double hdop, altitude_m, geoid_separation_m, dgps_age_s;
    int dgps_station;
    char nav_status;
};

/* A field of the sentence: offset and length in rl_nmea.text. */
struct rl_nmea_field {
    uint16_t off, len;
};

struct rl_nmea {
    enum rl_nmea_kind kind;
    char address[RL_NMEA_MAX_ADDRESS + 1];  /* "GNGGA", "PSRFEPE" */
    char talker[3];                         /* "GN"; "" for proprietary sentences */
    char sentence[RL_NMEA_MAX_ADDRESS + 1]; /* "GGA"; for proprietary the code after 'P' */
    char start;                             /* '$' or '!' (encapsulation) */
    bool checksum_present;                  /* false: accepted, but flagged */
    uint8_t checksum;                       /* as sent, when present */
    const char *text;                       /* borrowed: the sentence passed to rl_nmea_parse */
    size_t n_fields;
    struct rl_nmea_field fields[RL_NMEA_MAX_FIELDS];
    int bad_field; /* RL_ECORRUPT on a field: its index, else -1 */
    union {
        struct rl_nmea_gga gga;
        struct rl_nmea_rmc rmc;
        struct rl_nmea_vtg vtg;
        struct rl_nmea_hdt hdt;
        struct rl_nmea_gst gst;
        struct rl_nmea_gsa gsa;
        struct rl_nmea_gsv gsv;
        struct rl_nmea_zda zda;
        struct rl_nmea_gns gns;
    } u;
};

/* Parses one sentence of len bytes: '$' or '!', the address, comma-separated
 * fields, optional "*hh" checksum, optional trailing CR/LF. The text need not
 * be NUL-terminated; out->text points into it (borrowed, valid as long as s).
 * Returns 0; RL_ECRC when the checksum is present and wrong (out holds the
 * address and raw fields, nothing decoded); RL_ECORRUPT when it is not an
 * NMEA sentence or a field of a decoded type is malformed (out->bad_field
 * names it); RL_ETOOBIG past RL_NMEA_MAX_LEN or RL_NMEA_MAX_FIELDS. */
RL_WARN_UNUSED int rl_nmea_parse(const char *s, size_t len, struct rl_nmea *out);

/* The XOR checksum of the bytes between the start character and '*'. */
uint8_t rl_nmea_checksum(const char *body, size_t len);

/* The kind's three-letter sentence name ("GGA"), or "unknown"/"proprietary". */
const char *rl_nmea_kind_name(enum rl_nmea_kind kind);

/* Encoders for the simulator: write "$" + talker + sentence, the fields,
 * "*hh\r\n" and a terminating NUL into out. Absent values (NaN,
 * RL_NMEA_ABSENT, '\0', valid = false) become empty fields. talker is two
 * uppercase letters or digits. Return the sentence length (without the NUL),
 * -EINVAL for a bad talker or out-of-range value, -ENOBUFS when cap is too
 * small. */
RL_WARN_UNUSED int rl_nmea_format_gga(char *out, size_t cap, const char *talker,
                                      const struct rl_nmea_gga *v);
RL_WARN_UNUSED int rl_nmea_format_rmc(char *out, size_t cap, const char *talker,
                                      const struct rl_nmea_rmc *v);
RL_WARN_UNUSED int rl_nmea_format_vtg(char *out, size_t cap, const char *talker,
                                      const struct rl_nmea_vtg *v);
RL_WARN_UNUSED int rl_nmea_format_hdt(char *out, size_t cap, const char *talker,
                                      const struct rl_nmea_hdt *v);

/* ------------------------------------------------------------------------ */
/* u-blox UBX                                                               */
/* ------------------------------------------------------------------------ */

#define RL_UBX_SYNC1      0xB5
#define RL_UBX_SYNC2      0x62
#define RL_UBX_HEADER_LEN 6 /* sync x2, class, id, u16 LE length */
#define RL_UBX_OVERHEAD   8 /* header + CK_A, CK_B */
/* Largest payload roadlog accepts (the field allows 65535; real messages
 * such as RXM-RAWX stay well below). Bounds the serial framer's memory. */
#define RL_UBX_MAX_PAYLOAD     8192
#define RL_UBX_NAV_PVT_LEN     92 /* protocol 15+; 84 bytes before (no headVeh, magDec, magAcc) */
#define RL_UBX_NAV_PVT_LEN_V14 84

enum {
    RL_UBX_CLASS_NAV = 0x01,
    RL_UBX_CLASS_RXM = 0x02,
    RL_UBX_CLASS_INF = 0x04,
    RL_UBX_CLASS_ACK = 0x05,
    RL_UBX_CLASS_CFG = 0x06,
    RL_UBX_CLASS_UPD = 0x09,
    RL_UBX_CLASS_MON = 0x0A,
    RL_UBX_CLASS_AID = 0x0B,
    RL_UBX_CLASS_TIM = 0x0D,
    RL_UBX_CLASS_ESF = 0x10,
    RL_UBX_CLASS_MGA = 0x13,
    RL_UBX_CLASS_LOG = 0x21,
    RL_UBX_CLASS_SEC = 0x27,
    RL_UBX_CLASS_HNR = 0x28,
    RL_UBX_ID_NAV_PVT = 0x07,
};

/* One UBX frame: payload borrowed from the parsed bytes. */
struct rl_ubx_msg {
    uint8_t cls, id;
    uint16_t len;
    const uint8_t *payload;
};

/* UBX-NAV-PVT with the scaled values in plain units. */
struct rl_ubx_nav_pvt {
    uint32_t itow_ms;
    uint16_t year;
    uint8_t month, day, hour, min, sec;
    uint8_t valid; /* bit 0 validDate, 1 validTime, 2 fullyResolved, 3 validMag */
    uint32_t t_acc_ns;
    int32_t nano_ns;
    uint8_t fix_type; /* 0 none, 1 DR only, 2 2D, 3 3D, 4 GNSS+DR, 5 time only */
    uint8_t flags;    /* bit 0 gnssFixOK, 1 diffSoln, 5 headVehValid, 6-7 carrSoln */
    uint8_t flags2;
    uint8_t num_sv;
    double lon_deg, lat_deg; /* 1e-7 deg on the wire */
    double height_m, hmsl_m; /* mm on the wire */
    double h_acc_m, v_acc_m;
    double vel_n_mps, vel_e_mps, vel_d_mps, g_speed_mps; /* mm/s on the wire */
    double head_mot_deg;                                 /* 1e-5 deg */
    double s_acc_mps;
    double head_acc_deg;
    double p_dop;      /* 0.01 */
    uint16_t flags3;   /* bit 0 invalidLlh */
    bool has_head_veh; /* false for the 84-byte version */
    double head_veh_deg;
    double mag_dec_deg, mag_acc_deg; /* 1e-2 deg */
};

/* The 8-bit Fletcher checksum over n bytes (class .. payload). */
void rl_ubx_checksum(const uint8_t *p, size_t n, uint8_t *ck_a, uint8_t *ck_b);

/* Checks one complete frame of exactly len bytes (sync, length, checksum)
 * and fills out. Returns 0, RL_ETRUNC when len is shorter than the frame,
 * RL_ECORRUPT on bad sync or trailing bytes, RL_ETOOBIG above
 * RL_UBX_MAX_PAYLOAD, RL_ECRC on a checksum mismatch. */
RL_WARN_UNUSED int rl_ubx_parse(const uint8_t *p, size_t len, struct rl_ubx_msg *out);

/* Builds a frame into out. Returns its length (len + RL_UBX_OVERHEAD),
 * RL_ETOOBIG when len exceeds RL_UBX_MAX_PAYLOAD, -ENOBUFS when cap is too
 * small. */
RL_WARN_UNUSED int rl_ubx_frame(uint8_t cls, uint8_t id, const uint8_t *payload, size_t len,
                                uint8_t *out, size_t cap);

/* "NAV-PVT", "ESF-INS", ... for the class/id pairs roadlog knows, or NULL. */
const char *rl_ubx_name(uint8_t cls, uint8_t id);

/* Decodes a NAV-PVT payload (84 or at least 92 bytes). Returns 0,
 * RL_ETRUNC when shorter. */
RL_WARN_UNUSED int rl_ubx_nav_pvt_parse(const uint8_t *payload, size_t len,
                                        struct rl_ubx_nav_pvt *out);

/* Encodes v into a 92-byte NAV-PVT payload (values rounded to the wire
 * resolution). Returns RL_UBX_NAV_PVT_LEN, or -ENOBUFS when cap is short. */
RL_WARN_UNUSED int rl_ubx_nav_pvt_encode(const struct rl_ubx_nav_pvt *v, uint8_t *out, size_t cap);

#endif
