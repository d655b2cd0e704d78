/* A streaming framer for GNSS serial ports: splits a mixed byte stream into
 * NMEA 0183 sentences, u-blox UBX frames and RTCM 3 frames, the way the
 * recorder's `serial:` source and `roadlog import IN.nmea` store one frame
 * per message. Bytes that start no valid frame (line noise, a receiver's
 * boot banner, the '#' comment lines of gpsd's test logs) are skipped one at
 * a time and counted, so the framer resynchronises after any garbage.
 *
 *   - NMEA: '$' or '!', an address of 2..RL_NMEA_MAX_ADDRESS characters
 *     [A-Z0-9] followed by ',' or '*', printable characters, ended by CR LF
 *     (a bare LF or CR is accepted), at most RL_NMEA_MAX_LEN characters
 *     before the line end. The frame is emitted even when its checksum is
 *     wrong (flagged, counted): it is still what the receiver sent.
 *   - UBX: 0xB5 0x62, class, id, u16 LE length <= RL_UBX_MAX_PAYLOAD,
 *     payload, Fletcher checksum; a candidate with a wrong checksum is not a
 *     frame (its first byte is skipped and counted).
 *   - RTCM 3 (RTCM 10403.x transport layer): preamble 0xD3, 6 reserved zero
 *     bits, 10-bit length, payload, CRC-24Q over preamble..payload; a
 *     candidate with a wrong CRC is not a frame.
 *
 * Memory is bounded: the framer is one caller-owned struct, no allocation.
 * Feed it arbitrary chunks; a frame split across chunks comes out whole:
 *
 *     while (n > 0) {
 *         size_t k = rl_framer_push(&f, p, n);
 *         p += k, n -= k;
 *         while (rl_framer_next(&f, &fr) == 1)
 *             handle(&fr);
 *     }
 *     rl_framer_finish(&f);
 *     while (rl_framer_next(&f, &fr) == 1)
 *         handle(&fr);
 *
 * After rl_framer_next() returns 0, rl_framer_push() always accepts at least
 * one byte. Not thread-safe; one framer per stream. */
#ifndef ROADLOG_FRAMER_H
#define ROADLOG_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/gnss.h"

#define RL_RTCM3_PREAMBLE    0xD3
#define RL_RTCM3_HEADER_LEN  3
#define RL_RTCM3_CRC_LEN     3
#define RL_RTCM3_MAX_PAYLOAD 1023
/* Longest NMEA frame: the sentence plus CR LF. */
#define RL_FRAMER_NMEA_MAX  (RL_NMEA_MAX_LEN + 2)
#define RL_FRAMER_MAX_FRAME (RL_UBX_MAX_PAYLOAD + RL_UBX_OVERHEAD)
#define RL_FRAMER_BUF_SIZE  (2 * RL_FRAMER_MAX_FRAME)

enum rl_frame_kind {
    RL_FRAME_NMEA = 1,
    RL_FRAME_UBX,
    RL_FRAME_RTCM3,
};

struct rl_frame {
    enum rl_frame_kind kind;
    /* The frame's bytes as received (NMEA with its line end). Borrowed:
     * valid until the next rl_framer_push() or rl_framer_reset(). */
    const uint8_t *data;
    size_t len;
    bool checksum_present; /* NMEA: "*hh" present (always true for UBX, RTCM 3) */
    bool checksum_ok;      /* NMEA: false when "*hh" is present but wrong or malformed */
    uint16_t rtcm3_type;   /* RTCM 3: message number (first 12 payload bits), 0 if empty */
};

struct rl_framer_stats {
    uint64_t nmea, ubx, rtcm3;  /* frames emitted */
    uint64_t nmea_bad_checksum; /* emitted with checksum_ok false */
    uint64_t nmea_no_checksum;  /* emitted without "*hh" */
    uint64_t ubx_bad_checksum;  /* UBX-looking candidates rejected */
    uint64_t rtcm3_bad_crc;     /* RTCM-looking candidates rejected */
    uint64_t skipped_bytes;     /* bytes that were in no frame */
};

struct rl_framer {
    uint8_t buf[RL_FRAMER_BUF_SIZE];
    size_t start, end; /* unconsumed bytes are buf[start, end) */
    bool eof;
    struct rl_framer_stats stats;
};

/* Prepares an empty framer (caller storage; nothing to release). */
void rl_framer_init(struct rl_framer *f);
/* Drops buffered bytes and the end-of-stream mark; keeps the statistics. */
void rl_framer_reset(struct rl_framer *f);
/* Copies up to len bytes into the framer. Returns how many were taken. */
size_t rl_framer_push(struct rl_framer *f, const uint8_t *data, size_t len);
/* Marks the end of the stream: rl_framer_next() then emits a last NMEA
 * sentence that lacks its line end and counts an incomplete binary frame
 * as skipped bytes. */
void rl_framer_finish(struct rl_framer *f);
/* Returns 1 with the next frame in out, 0 when more input is needed (or,
 * after rl_framer_finish, when everything has been consumed). */
int rl_framer_next(struct rl_framer *f, struct rl_frame *out);

/* CRC-24Q (RTCM 3, polynomial 0x1864CFB, initial value 0) over n bytes. */
uint32_t rl_rtcm3_crc24q(const uint8_t *p, size_t n);

#endif
