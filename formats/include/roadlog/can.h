/* CAN: SocketCAN frames as stored in logs (pcap LINKTYPE_CAN_SOCKETCAN,
 * socketcan.c), the candump log line format (socketcan.c), and DBC signal
 * databases (dbc.c). The "can" decoder of decode.h decodes a stored frame
 * and, with a DBC in rl_decode_ctx.dbc, its message and signals.
 *
 * Byte order: in LINKTYPE_CAN_SOCKETCAN the CAN ID and flags word is
 * big-endian (tcpdump.org link-layer types), unlike the host-order
 * struct can_frame a CAN_RAW socket returns. A recorder reading a socket
 * converts with rl_socketcan_format(); replay to a socket converts back.
 *
 * All functions are pure or operate on caller-owned objects; a parsed
 * struct rl_dbc is immutable and may be shared by threads. */
#ifndef ROADLOG_CAN_H
#define ROADLOG_CAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

/* ------------------------------------------------------------------------ */
/* Frames                                                                   */
/* ------------------------------------------------------------------------ */

#define RL_CAN_MAX_DLEN         8
#define RL_CANFD_MAX_DLEN       64
#define RL_CAN_EFF_FLAG         0x80000000u /* extended 29-bit id */
#define RL_CAN_RTR_FLAG         0x40000000u /* remote transmission request */
#define RL_CAN_ERR_FLAG         0x20000000u /* error message frame */
#define RL_CAN_SFF_MASK         0x000007FFu
#define RL_CAN_EFF_MASK         0x1FFFFFFFu
#define RL_CANFD_BRS            0x01 /* bit rate switch */
#define RL_CANFD_ESI            0x02 /* error state indicator */
#define RL_CANFD_FDF            0x04 /* CAN FD frame */
#define RL_SOCKETCAN_HEADER_LEN 8
#define RL_SOCKETCAN_MTU        16   /* classic frame: header + 8 data bytes */
#define RL_SOCKETCAN_FD_MTU     72   /* CAN FD frame: header + 64 data bytes */
#define RL_CANXL_FLAG_BYTE      0x80 /* bit of header byte 4 marking CAN XL */

struct rl_can_frame {
    uint32_t id; /* 11- or 29-bit identifier, without flags */
    bool extended;
    bool rtr;
    bool error; /* error message frame: id carries the error class */
    bool fd;
    uint8_t fd_flags; /* RL_CANFD_BRS | RL_CANFD_ESI (FDF is implied by fd) */
    uint8_t len;      /* payload bytes: 0..8, 0..64 for FD; RTR: the requested length */
    uint8_t len8_dlc; /* classic frames with len 8: a DLC 9..15 sent on the wire, else 0 */
    uint8_t data[RL_CANFD_MAX_DLEN];
};

/* Parses one LINKTYPE_CAN_SOCKETCAN frame (16 bytes classic, 72 bytes FD;
 * frames are classic or FD by the FDF flag, else by size, else by length).
 * Returns 0, RL_ETRUNC when shorter than the header plus its payload,
 * RL_ECORRUPT for a length beyond 8/64, RL_EUNSUPPORTED for CAN XL. */
RL_WARN_UNUSED int rl_socketcan_parse(const uint8_t *p, size_t len, struct rl_can_frame *out);

/* Writes f as a LINKTYPE_CAN_SOCKETCAN frame: 16 bytes (classic) or 72 bytes
 * (FD, with FDF set), padding zeroed. Returns the length, -EINVAL for an
 * impossible frame (id or length out of range), -ENOBUFS when cap is short. */
RL_WARN_UNUSED int rl_socketcan_format(const struct rl_can_frame *f, uint8_t *out, size_t cap);

/* candump -l / -L log lines: "(1611323891.123456) can0 123#DEADBEEF",
 * extended "12345678#..", FD "123##1DEADBEEF" (flags nibble, then data),
 * remote "123#R" or "123#R5", error frames as 8 digits with
 * RL_CAN_ERR_FLAG, data bytes optionally separated by '.', a classic
 * len8_dlc as "_D" suffix, and an optional trailing direction " R"/" T". */
#define RL_CANDUMP_IFACE_MAX 15  /* IFNAMSIZ - 1 */
#define RL_CANDUMP_LINE_MAX  256 /* longest line accepted or written */

struct rl_candump_line {
    uint64_t time_ns; /* the timestamp, ns since the Unix epoch */
    char iface[RL_CANDUMP_IFACE_MAX + 1];
    char direction; /* 'R' received, 'T' transmitted, '\0' absent */
    struct rl_can_frame frame;
};

/* Parses one line (len bytes, need not be NUL-terminated; a trailing line
 * end is ignored). Returns 0, RL_ECORRUPT (what is wrong is not reported
 * beyond that; lines are short), RL_ETOOBIG past RL_CANDUMP_LINE_MAX. */
RL_WARN_UNUSED int rl_candump_parse(const char *line, size_t len, struct rl_candump_line *out);

/* Writes l as a candump log line with microsecond timestamp, uppercase hex
 * and no line end, NUL-terminated. Returns the length, -EINVAL for an
 * impossible frame, -ENOBUFS when cap is short. */
RL_WARN_UNUSED int rl_candump_format(const struct rl_candump_line *l, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* DBC                                                                      */
/* ------------------------------------------------------------------------ */

/* Bounds on what a DBC may contain (parse fails with RL_ETOOBIG beyond). */
#define RL_DBC_MAX_TEXT        ((size_t)32 << 20)
#define RL_DBC_MAX_STATEMENT   65536 /* bytes in one statement (a CM_ may span lines) */
#define RL_DBC_MAX_NAME        128   /* identifier length */
#define RL_DBC_MAX_MESSAGES    16384
#define RL_DBC_MAX_SIGNALS     262144 /* in all messages */
#define RL_DBC_MAX_MSG_SIGNALS 1024   /* in one message */
#define RL_DBC_MAX_VALUES      4096   /* value-table entries per signal */
#define RL_DBC_MAX_BYTES       64     /* largest message (CAN FD) */
#define RL_DBC_PROBLEMS_KEPT   32     /* problem messages kept (all are counted) */

#define RL_DBC_STRICT 0x1u /* rl_dbc_parse_ex: the first problem is an error */

enum rl_dbc_value_type {
    RL_DBC_INTEGER = 0,
    RL_DBC_FLOAT32 = 1, /* SIG_VALTYPE_ 1: IEEE float, 32 bits */
    RL_DBC_FLOAT64 = 2, /* SIG_VALTYPE_ 2: IEEE double, 64 bits */
};

struct rl_dbc_value {
    int64_t value;
    const char *label;
};

struct rl_dbc_signal {
    const char *name;
    uint16_t start_bit; /* as written: the LSB for Intel, the MSB for Motorola */
    uint16_t bit_len;   /* 1..64 */
    bool big_endian;    /* "@0": Motorola; "@1": Intel */
    bool is_signed;     /* "-": two's complement */
    enum rl_dbc_value_type value_type;
    double factor, offset;
    double min, max;
    const char *unit;
    bool is_multiplexer; /* "M" (or "mNM") */
    bool is_multiplexed; /* "mN": present when the multiplexer's raw value is mux_value */
    uint32_t mux_value;
    size_t n_values; /* value table (VAL_) */
    const struct rl_dbc_value *values;
};

struct rl_dbc_message {
    uint32_t id;   /* 11- or 29-bit identifier, without flags */
    bool extended; /* bit 31 of the DBC id */
    bool fd;       /* VFrameFormat says CAN FD, or more than 8 bytes */
    uint8_t size;  /* bytes, 0..64 (the BO_ "DLC" field) */
    const char *name;
    const char *transmitter; /* "" when none */
    unsigned line;           /* line of the BO_ statement */
    size_t n_signals;
    const struct rl_dbc_signal *signals;
};

struct rl_dbc;

/* Parses DBC text (len bytes, need not be NUL-terminated), leniently: a
 * statement that cannot be understood is skipped and recorded as a problem
 * ("line 54: BO_ without a DLC; message skipped"), since real DBC files are
 * often hand-edited. Keeps VERSION, BO_, SG_ (incl. multiplexing), VAL_,
 * SIG_VALTYPE_ and the VFrameFormat attribute; NS_, BS_, BU_, CM_, BA_DEF_,
 * BA_ and the rest are checked for syntax and skipped. On success *out is a
 * new database to free with rl_dbc_free(). Returns 0, -ENOMEM, RL_ETOOBIG
 * (a bound above exceeded), or with RL_DBC_STRICT RL_ECORRUPT at the first
 * problem; err receives a message naming the line. */
RL_WARN_UNUSED int rl_dbc_parse(const char *text, size_t len, struct rl_dbc **out, char *err,
                                size_t err_len);
RL_WARN_UNUSED int rl_dbc_parse_ex(const char *text, size_t len, unsigned flags,
                                   struct rl_dbc **out, char *err, size_t err_len);
void rl_dbc_free(struct rl_dbc *dbc);

/* The VERSION string ("" when absent). */
const char *rl_dbc_version(const struct rl_dbc *dbc);
/* Messages in file order (duplicates of an id included). */
size_t rl_dbc_message_count(const struct rl_dbc *dbc);
const struct rl_dbc_message *rl_dbc_message_at(const struct rl_dbc *dbc, size_t i);
/* Signals in all messages. */
size_t rl_dbc_signal_count(const struct rl_dbc *dbc);
/* Problems found while parsing: how many, and the first RL_DBC_PROBLEMS_KEPT
 * messages ("line N: ..."), NULL past those. */
size_t rl_dbc_problem_count(const struct rl_dbc *dbc);
const char *rl_dbc_problem(const struct rl_dbc *dbc, size_t i);

/* The message for a frame id: key is the 11/29-bit id, ORed with
 * RL_CAN_EFF_FLAG for extended frames. When the file defines an id twice
 * the first definition is returned. NULL when absent. */
const struct rl_dbc_message *rl_dbc_find(const struct rl_dbc *dbc, uint32_t key);

/* A decoded signal. */
struct rl_dbc_decoded {
    const struct rl_dbc_signal *signal;
    uint64_t raw;      /* the bits as extracted (sign-extended for signed signals) */
    double value;      /* physical: raw * factor + offset */
    const char *label; /* the value table's label for raw, or NULL */
};

/* Extracts a signal's raw bits from data (len bytes). Returns 0,
 * RL_ETRUNC when the signal lies beyond len. */
RL_WARN_UNUSED int rl_dbc_signal_raw(const struct rl_dbc_signal *s, const uint8_t *data, size_t len,
                                     uint64_t *raw);
/* The physical value of raw bits: raw * factor + offset (floats first
 * reinterpreted). */
double rl_dbc_signal_physical(const struct rl_dbc_signal *s, uint64_t raw);

/* Decodes signal i of msg from a frame's data. Returns 1 (out filled), 0
 * when the signal is not in this frame (beyond len, or multiplexed under
 * another multiplexer value), or RL_ECORRUPT for a bad index. */
RL_WARN_UNUSED int rl_dbc_decode_signal(const struct rl_dbc_message *msg, size_t i,
                                        const uint8_t *data, size_t len,
                                        struct rl_dbc_decoded *out);
/* Decodes every signal present in the frame into out (cap entries; cap >=
 * msg->n_signals is always enough). Returns the number written. */
size_t rl_dbc_decode(const struct rl_dbc_message *msg, const uint8_t *data, size_t len,
                     struct rl_dbc_decoded *out, size_t cap);

/* Encoders for the simulator: writes a signal's raw bits into data (len
 * bytes), leaving the other bits. rl_dbc_encode_signal converts a physical
 * value first: raw = round((physical - offset) / factor). Return 0,
 * -ERANGE when the value does not fit the signal, RL_ETRUNC when the signal
 * lies beyond len, -EINVAL for a zero factor or a non-finite value. */
RL_WARN_UNUSED int rl_dbc_pack_raw(const struct rl_dbc_signal *s, uint64_t raw, uint8_t *data,
                                   size_t len);
RL_WARN_UNUSED int rl_dbc_encode_signal(const struct rl_dbc_signal *s, double physical,
                                        uint8_t *data, size_t len);

#endif
