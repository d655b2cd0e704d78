/* Typed LiDAR packet API: identify, parse and decode into points the UDP
 * payloads of Velodyne (VLP-16, VLP-32C, HDL-32E), Hesai (Pandar40P,
 * PandarXT32) and RoboSense (RS-LiDAR-16, RS-LiDAR-32) sensors, and build
 * byte-exact packets from points for the simulator. The decoders of
 * decode.h (rl_decoder_velodyne, _hesai, _robosense) are written on top of
 * these functions. Vendor facts come from the user manuals cited at the top
 * of velodyne.c, hesai.c and robosense.c.
 *
 * Units, everywhere in this header unless a name says otherwise:
 *   - distances and coordinates in metres;
 *   - angles in degrees; raw azimuths in hundredths of a degree ("cdeg",
 *     0..35999 as sent by the sensor);
 *   - times in nanoseconds (time_offset_ns) or microseconds where the
 *     sensor counts microseconds (timestamp_us).
 *
 * Point frame (one convention for every vendor, the one of the Velodyne
 * manuals): azimuth alpha is the sensor's rotation angle, clockwise seen
 * from above, 0 at the sensor's reference direction; elevation omega is
 * positive upwards. x = r cos(omega) sin(alpha), y = r cos(omega)
 * cos(alpha), z = r sin(omega): y points to azimuth 0, x to azimuth 90, z
 * up.
 *
 * All functions are pure (no globals, no allocation) except
 * rl_hesai_calib_parse. Input packets are untrusted: every function checks
 * lengths first and returns RL_ETRUNC for a short packet, RL_ECORRUPT for
 * bytes that are not the format, never reading past len. Thread-safe. */
#ifndef ROADLOG_LIDAR_H
#define ROADLOG_LIDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

/* One return, in the point frame above. */
struct rl_lidar_point {
    float x, y, z;     /* metres */
    float intensity;   /* the sensor's reflectivity byte, 0..255 */
    uint16_t ring;     /* laser channel as numbered in the packet, from 0 */
    float azimuth_deg; /* precise azimuth of this return, 0 <= a < 360 */
    /* Firing time of this return after the packet's first firing (the
     * packet's reference time, see first_point_offset_ns of each parse
     * struct), from the manuals' firing-timing tables. */
    uint32_t time_offset_ns;
};

/* Return modes: the values Velodyne and Hesai put in their tails. */
enum rl_lidar_return_mode {
    RL_LIDAR_RETURN_FIRST = 0x33, /* Hesai XT */
    RL_LIDAR_RETURN_STRONGEST = 0x37,
    RL_LIDAR_RETURN_LAST = 0x38,
    RL_LIDAR_RETURN_DUAL = 0x39,                 /* last + strongest */
    RL_LIDAR_RETURN_DUAL_LAST_FIRST = 0x3B,      /* Hesai XT */
    RL_LIDAR_RETURN_DUAL_FIRST_STRONGEST = 0x3C, /* Hesai XT */
};

/* "strongest", "last", "dual", ... or "unknown". Never NULL. */
const char *rl_lidar_return_mode_name(uint8_t mode);

/* ------------------------------------------------------------------ */
/* Velodyne                                                             */

#define RL_VELODYNE_DATA_LEN      1206 /* data packet UDP payload */
#define RL_VELODYNE_POSITION_LEN  512  /* position (telemetry) packet */
#define RL_VELODYNE_DATA_PORT     2368
#define RL_VELODYNE_POSITION_PORT 8308
#define RL_VELODYNE_BLOCKS        12
#define RL_VELODYNE_CHANNELS      32 /* data points per block */
#define RL_VELODYNE_MAX_POINTS    (RL_VELODYNE_BLOCKS * RL_VELODYNE_CHANNELS)
#define RL_VELODYNE_DIST_UNIT_M   0.002 /* 2 mm per distance count */
/* Longest NMEA sentence kept from a position packet. */
#define RL_VELODYNE_NMEA_MAX 128

enum rl_velodyne_model {
    RL_VELODYNE_UNKNOWN = 0,
    RL_VELODYNE_VLP16, /* also Puck LITE: same product id and angles */
    RL_VELODYNE_VLP32C,
    RL_VELODYNE_HDL32E,
};

/* Product ids (factory byte 2). */
enum rl_velodyne_product {
    RL_VELODYNE_PRODUCT_HDL32E = 0x21,
    RL_VELODYNE_PRODUCT_VLP16 = 0x22,
    RL_VELODYNE_PRODUCT_VLP32C = 0x28,
};

enum rl_velodyne_kind {
    RL_VELODYNE_NOT_VELODYNE = 0,
    RL_VELODYNE_KIND_DATA,
    RL_VELODYNE_KIND_POSITION,
};

/* Tells a data packet (1206 bytes, every block flag 0xFFEE) from a
 * position packet (512 bytes). port is the UDP port the payload was sent
 * to or from (0: unknown); a 512-byte payload is a position packet when it
 * carries "$GP" at the NMEA offset or port is 8308. Cheap; never fails. */
enum rl_velodyne_kind rl_velodyne_identify(const uint8_t *p, size_t len, uint16_t port);

/* The model of a product id, RL_VELODYNE_UNKNOWN for others. Product ids
 * are not reliable on old firmware (before 3.0.29.0 the factory bytes
 * were not defined): let a configured model override it. */
enum rl_velodyne_model rl_velodyne_model_from_product(uint8_t product_id);
/* "VLP-16", "VLP-32C", "HDL-32E" or "unknown". Never NULL. */
const char *rl_velodyne_model_name(enum rl_velodyne_model model);
/* Nominal elevation of laser (0..31; VLP-16: 0..15) in degrees, from the
 * model's manual; NaN for a bad model or laser. */
double rl_velodyne_elevation_deg(enum rl_velodyne_model model, unsigned laser);

struct rl_velodyne_data {
    uint16_t azimuth_cdeg[RL_VELODYNE_BLOCKS];
    uint32_t timestamp_us; /* microseconds past the hour */
    uint8_t return_mode;   /* enum rl_lidar_return_mode */
    uint8_t product_id;
    enum rl_velodyne_model model;        /* from product_id */
    unsigned valid_points;               /* distances > 0 */
    uint16_t min_distance, max_distance; /* raw counts of valid points, 0 when none */
    /* Time of the point with time_offset_ns 0 relative to timestamp_us: 0,
     * the timestamp marks the first firing. */
    int32_t first_point_offset_ns;
};

/* Parses a data packet's header fields. 0, RL_ETRUNC, RL_ECORRUPT (a block
 * flag is not 0xFFEE, or len is not RL_VELODYNE_DATA_LEN). */
RL_WARN_UNUSED int rl_velodyne_parse_data(const uint8_t *p, size_t len,
                                          struct rl_velodyne_data *out);

struct rl_velodyne_position {
    uint32_t timestamp_us; /* microseconds past the hour */
    uint8_t pps_status;    /* 0 absent, 1 synchronizing, 2 locked, 3 error */
    /* The NMEA sentence without its CR/LF, NUL-terminated; empty when the
     * packet carries none. */
    char nmea[RL_VELODYNE_NMEA_MAX + 1];
    size_t nmea_len;
    /* From a $GPRMC sentence (any talker: $--RMC) with status 'A'. */
    bool has_fix;
    double lat_deg, lon_deg; /* north and east positive */
    /* From $--RMC time and date fields, when both are present. */
    bool has_utc;
    int year, month, day, hour, minute;
    double second;
};

/* Parses a position packet: timestamp, PPS status and the NMEA text
 * (payload offsets 198, 202 and 206). 0, RL_ETRUNC, RL_ECORRUPT. */
RL_WARN_UNUSED int rl_velodyne_parse_position(const uint8_t *p, size_t len,
                                              struct rl_velodyne_position *out);

/* Decodes a data packet into points using the nominal angles and firing
 * timing of model (which the caller chooses: the product id may lie).
 * Returns with distance 0 (no measurement) are skipped. Writes at most cap
 * points and sets *n to the number written; RL_ETOOBIG when the packet held
 * more than cap (the first cap are written). RL_VELODYNE_MAX_POINTS is
 * always enough. RL_EUNSUPPORTED for RL_VELODYNE_UNKNOWN. */
RL_WARN_UNUSED int rl_velodyne_decode_points(enum rl_velodyne_model model, const uint8_t *p,
                                             size_t len, struct rl_lidar_point *pts, size_t cap,
                                             size_t *n);

/* What a data packet is built from. Distances in metres, 0 for no return;
 * they are rounded to the nearest 2 mm. In dual return mode blocks 2k and
 * 2k+1 are the two returns of one firing and should carry equal azimuths
 * (the encoder writes what it is given). VLP-16: channels 0..15 are the
 * first firing of the block, 16..31 the second. */
struct rl_velodyne_frame {
    enum rl_velodyne_model model;
    uint8_t return_mode;                       /* enum rl_lidar_return_mode; 0 means strongest */
    uint32_t timestamp_us;                     /* microseconds past the hour, < 3,600,000,000 */
    uint16_t azimuth_cdeg[RL_VELODYNE_BLOCKS]; /* each < 36000 */
    float distance_m[RL_VELODYNE_BLOCKS][RL_VELODYNE_CHANNELS];
    uint8_t intensity[RL_VELODYNE_BLOCKS][RL_VELODYNE_CHANNELS];
};

/* Builds a 1206-byte data packet into out (out_len >= RL_VELODYNE_DATA_LEN).
 * -EINVAL for a distance < 0, NaN or beyond 65535 counts (131.07 m), an
 * azimuth >= 36000, a timestamp past the hour, an unknown model or return
 * mode, or a short out. */
RL_WARN_UNUSED int rl_velodyne_encode_packet(const struct rl_velodyne_frame *in, uint8_t *out,
                                             size_t out_len);

/* Builds a 512-byte position packet: timestamp, PPS status, and nmea (may be
 * NULL; without its CR/LF, which are appended; at most RL_VELODYNE_NMEA_MAX
 * - 2 bytes). -EINVAL on bad arguments. */
RL_WARN_UNUSED int rl_velodyne_encode_position(uint32_t timestamp_us, uint8_t pps_status,
                                               const char *nmea, uint8_t *out, size_t out_len);

/* ------------------------------------------------------------------ */
/* Hesai                                                                */

#define RL_HESAI_P40_LEN       1262 /* Pandar40P packet, UDP sequence off */
#define RL_HESAI_P40_SEQ_LEN   1266 /* ... with the 4-byte UDP sequence */
#define RL_HESAI_P40_BLOCKS    10
#define RL_HESAI_P40_CHANNELS  40
#define RL_HESAI_XT32_LEN      1080 /* PandarXT32, UDP sequence always on */
#define RL_HESAI_XT32_BLOCKS   8
#define RL_HESAI_XT32_CHANNELS 32
#define RL_HESAI_DATA_PORT     2368
#define RL_HESAI_MAX_BLOCKS    10
#define RL_HESAI_MAX_CHANNELS  40
#define RL_HESAI_MAX_POINTS    (RL_HESAI_P40_BLOCKS * RL_HESAI_P40_CHANNELS)
#define RL_HESAI_DIST_UNIT_M   0.004 /* 4 mm per distance count (Pandar40P) */
/* Channels a calibration file may describe. */
#define RL_HESAI_CALIB_MAX_CHANNELS 128

enum rl_hesai_model {
    RL_HESAI_UNKNOWN = 0,
    RL_HESAI_PANDAR40P,
    RL_HESAI_PANDARXT32,
};

/* The model of a payload by size and magic (Pandar40P: 1262/1266 bytes,
 * every block flag 0xFFEE; XT32: 1080 bytes starting 0xEE 0xFF 0x06), or
 * RL_HESAI_UNKNOWN. Cheap; never fails. */
enum rl_hesai_model rl_hesai_identify(const uint8_t *p, size_t len);
/* "Pandar40P", "PandarXT32" or "unknown". */
const char *rl_hesai_model_name(enum rl_hesai_model model);

struct rl_hesai_packet {
    enum rl_hesai_model model;
    unsigned blocks, channels;
    uint16_t azimuth_cdeg[RL_HESAI_MAX_BLOCKS];
    uint8_t return_mode; /* enum rl_lidar_return_mode */
    bool dual;
    uint16_t motor_rpm;
    uint32_t timestamp_us;                      /* microseconds within the UTC second */
    uint8_t factory;                            /* 0x42 or 0x43 */
    int year, month, day, hour, minute, second; /* UTC, full year */
    bool has_udp_seq;
    uint32_t udp_seq;
    bool high_temp;                         /* Pandar40P shutdown flag */
    uint8_t dist_unit_mm;                   /* 4 */
    uint8_t protocol_major, protocol_minor; /* XT32 pre-header; 0 for 40P */
    unsigned valid_points;
    uint16_t min_distance, max_distance; /* raw counts of valid points */
    /* Time of the point with time_offset_ns 0 relative to the packet's
     * absolute time (UTC second + timestamp_us): negative, the packet time
     * is taken after (40P) or at the last round of firing (XT32). */
    int32_t first_point_offset_ns;
};

/* Parses header and tail. 0, RL_ETRUNC, RL_ECORRUPT. */
RL_WARN_UNUSED int rl_hesai_parse(const uint8_t *p, size_t len, struct rl_hesai_packet *out);

/* An angle-correction table (opaque): per channel, elevation and azimuth
 * offset in degrees. */
struct rl_hesai_calib;

/* Parses a Hesai angle-correction CSV ("Channel,Elevation,Azimuth" header,
 * then one "id,elevation_deg,azimuth_offset_deg" line per channel, ids from
 * 1, CR/LF or LF, trailing newline optional). *out is freed with
 * rl_hesai_calib_free. 0; RL_ECORRUPT with the line in err for malformed
 * text, an id out of 1..RL_HESAI_CALIB_MAX_CHANNELS, a duplicate id or a
 * missing one; RL_ETOOBIG for text over 1 MiB; -ENOMEM. */
RL_WARN_UNUSED int rl_hesai_calib_parse(const char *csv, size_t len, struct rl_hesai_calib **out,
                                        char *err, size_t err_len);
void rl_hesai_calib_free(struct rl_hesai_calib *calib);
/* Number of channels described. */
unsigned rl_hesai_calib_channels(const struct rl_hesai_calib *calib);
/* Angles of channel (from 0). false when out of range. */
bool rl_hesai_calib_get(const struct rl_hesai_calib *calib, unsigned channel, double *elevation_deg,
                        double *azimuth_offset_deg);

/* Decodes a packet into points, with calib's angles when it describes at
 * least the model's channels, else the manual's nominal angles. Zero
 * distances are skipped; RL_ETOOBIG when more than cap (see
 * rl_velodyne_decode_points). */
RL_WARN_UNUSED int rl_hesai_decode_points(const struct rl_hesai_calib *calib, const uint8_t *p,
                                          size_t len, struct rl_lidar_point *pts, size_t cap,
                                          size_t *n);

/* What a Hesai packet is built from. Pandar40P uses 10 blocks x 40
 * channels, XT32 8 x 32; the rest of the arrays is ignored. Distances in
 * metres (0: no return) rounded to the model's unit (4 mm). */
struct rl_hesai_frame {
    enum rl_hesai_model model;
    uint8_t return_mode; /* 0 means strongest */
    uint16_t motor_rpm;
    uint32_t timestamp_us;                      /* < 1,000,000 */
    int year, month, day, hour, minute, second; /* UTC, full year */
    bool udp_seq_on;                            /* Pandar40P: append the 4-byte sequence */
    uint32_t udp_seq;
    uint16_t azimuth_cdeg[RL_HESAI_MAX_BLOCKS];
    float distance_m[RL_HESAI_MAX_BLOCKS][RL_HESAI_MAX_CHANNELS];
    uint8_t intensity[RL_HESAI_MAX_BLOCKS][RL_HESAI_MAX_CHANNELS];
};

/* Builds a packet into out; *len receives its size (1262, 1266 or 1080).
 * -EINVAL for out-of-range fields (as rl_velodyne_encode_packet, plus a
 * date the tail cannot hold) or a short out. */
RL_WARN_UNUSED int rl_hesai_encode_packet(const struct rl_hesai_frame *in, uint8_t *out,
                                          size_t out_len, size_t *len);

/* ------------------------------------------------------------------ */
/* RoboSense                                                            */

#define RL_ROBOSENSE_PACKET_LEN 1248 /* MSOP and DIFOP */
#define RL_ROBOSENSE_MSOP_PORT  6699
#define RL_ROBOSENSE_DIFOP_PORT 7788
#define RL_ROBOSENSE_BLOCKS     12
#define RL_ROBOSENSE_CHANNELS   32 /* data points per block */
#define RL_ROBOSENSE_MAX_POINTS (RL_ROBOSENSE_BLOCKS * RL_ROBOSENSE_CHANNELS)
#define RL_ROBOSENSE_GPRMC_MAX  86

enum rl_robosense_model {
    RL_ROBOSENSE_UNKNOWN = 0,
    RL_ROBOSENSE_RS16 = 1, /* the MSOP header's model byte */
    RL_ROBOSENSE_RS32 = 2,
};

/* Distance resolution: depends on the sensor's firmware, not stated in the
 * packet. */
enum rl_robosense_resolution {
    RL_ROBOSENSE_RES_5MM = 0, /* 0.5 cm, full 16-bit distance */
    RL_ROBOSENSE_RES_10MM,    /* 1 cm; on RS-32 bit 15 is the laser group flag */
};

enum rl_robosense_kind {
    RL_ROBOSENSE_NOT_ROBOSENSE = 0,
    RL_ROBOSENSE_KIND_MSOP,
    RL_ROBOSENSE_KIND_DIFOP,
};

/* By the 8-byte header; any length >= 8. Cheap; never fails. */
enum rl_robosense_kind rl_robosense_identify(const uint8_t *p, size_t len);
/* "RS-LiDAR-16", "RS-LiDAR-32" or "unknown". */
const char *rl_robosense_model_name(enum rl_robosense_model model);

struct rl_robosense_time {
    int year, month, day, hour, minute, second; /* full year */
    int millisecond, microsecond;
};

struct rl_robosense_msop {
    uint8_t model_byte;
    enum rl_robosense_model model; /* RL_ROBOSENSE_UNKNOWN for other bytes */
    struct rl_robosense_time time; /* packet time: its first firing */
    uint16_t azimuth_cdeg[RL_ROBOSENSE_BLOCKS];
    unsigned valid_points;
    uint16_t min_distance, max_distance; /* raw counts of valid points */
    int32_t first_point_offset_ns;       /* 0: the time stamps the first firing */
};

/* Parses an MSOP packet's header, azimuths and tail (0x00 0xFF). 0,
 * RL_ETRUNC, RL_ECORRUPT. */
RL_WARN_UNUSED int rl_robosense_parse_msop(const uint8_t *p, size_t len,
                                           struct rl_robosense_msop *out);

struct rl_robosense_difop {
    uint16_t motor_rpm;
    uint8_t lidar_ip[4], dest_ip[4], mac[6];
    uint16_t msop_port_lidar, msop_port_pc, difop_port_lidar, difop_port_pc;
    uint8_t serial[6];
    uint8_t return_mode;
    struct rl_robosense_time time;
    char gprmc[RL_ROBOSENSE_GPRMC_MAX + 1]; /* up to the first NUL or CR/LF */
};

/* Parses the fields of a DIFOP packet common to RS-LiDAR-16 and -32
 * (offsets of the RS-LiDAR-16 manual's Table 6 up to the GPRMC field) and
 * checks the tail 0x0F 0xF0. 0, RL_ETRUNC, RL_ECORRUPT. */
RL_WARN_UNUSED int rl_robosense_parse_difop(const uint8_t *p, size_t len,
                                            struct rl_robosense_difop *out);

/* Per-channel angles for RoboSense point decoding; callers may fill it
 * from the sensor's angle.csv, or from an RS-LiDAR-16 DIFOP packet. */
struct rl_robosense_calib {
    unsigned channels; /* 16 or 32 */
    float elevation_deg[RL_ROBOSENSE_CHANNELS];
    float azimuth_offset_deg[RL_ROBOSENSE_CHANNELS];
};

/* Reads the corrected vertical angles of an RS-LiDAR-16 DIFOP packet
 * (COR_VERT_ANG, offset 1165, 16 x 3 bytes, 0.0001 degree, channels 1..8
 * downwards). 0, RL_ETRUNC, RL_ECORRUPT. */
RL_WARN_UNUSED int rl_robosense_calib_from_difop16(const uint8_t *p, size_t len,
                                                   struct rl_robosense_calib *out);

/* Decodes an MSOP packet into points. model RL_ROBOSENSE_UNKNOWN takes the
 * header's model byte. calib may be NULL: RS-16 then uses the nominal -15..
 * +15 degree fan; RS-32 has no nominal table here and needs calib
 * (RL_EUNSUPPORTED without). The return mode is not in MSOP packets: blocks
 * repeating azimuths in pairs are read as dual return. Zero distances
 * skipped; RL_ETOOBIG as above. */
RL_WARN_UNUSED int rl_robosense_decode_points(enum rl_robosense_model model,
                                              enum rl_robosense_resolution res,
                                              const struct rl_robosense_calib *calib,
                                              const uint8_t *p, size_t len,
                                              struct rl_lidar_point *pts, size_t cap, size_t *n);

/* What an MSOP packet is built from (layout as Velodyne: RS-16 channels
 * 0..15 first firing, 16..31 second). Distances in metres, rounded to res. */
struct rl_robosense_frame {
    enum rl_robosense_model model;
    enum rl_robosense_resolution res;
    struct rl_robosense_time time;
    uint16_t azimuth_cdeg[RL_ROBOSENSE_BLOCKS];
    float distance_m[RL_ROBOSENSE_BLOCKS][RL_ROBOSENSE_CHANNELS];
    uint8_t intensity[RL_ROBOSENSE_BLOCKS][RL_ROBOSENSE_CHANNELS];
};

/* Builds a 1248-byte MSOP packet. -EINVAL on out-of-range fields. */
RL_WARN_UNUSED int rl_robosense_encode_msop(const struct rl_robosense_frame *in, uint8_t *out,
                                            size_t out_len);

#endif
