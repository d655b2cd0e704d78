/* Project-wide status codes. Functions return 0 on success and a negative code
 * on failure: OS errors pass through as -errno, project errors come from the
 * RL_ERRNO_MAP table below. Truncated input (RL_ETRUNC) is kept apart from
 * corrupt input (RL_ECORRUPT): the first is what a power cut leaves behind, the
 * second is damage. */
#ifndef ROADLOG_ERROR_H
#define ROADLOG_ERROR_H

#define RL_WARN_UNUSED __attribute__((warn_unused_result))

/* X(name, value, message) */
#define RL_ERRNO_MAP(X)                                                                            \
    X(ECORRUPT, -4001, "corrupt data")                                                             \
    X(ETRUNC, -4002, "data ends early (truncated)")                                                \
    X(ECRC, -4003, "CRC mismatch")                                                                 \
    X(ETOOBIG, -4004, "length exceeds limit")                                                      \
    X(ENOTMCAP, -4005, "not an MCAP file")                                                         \
    X(EUNSUPPORTED, -4006, "unsupported feature")                                                  \
    X(ECOMPRESS, -4007, "compression library error")                                               \
    X(ESTATE, -4008, "operation not valid in this state")                                          \
    X(ENOTFOUND, -4009, "not found")                                                               \
    X(EDUPLICATE, -4010, "duplicate id")

enum rl_errno {
#define RL_ERRNO_ENUM(name, value, msg) RL_##name = (value),
    RL_ERRNO_MAP(RL_ERRNO_ENUM)
#undef RL_ERRNO_ENUM
};

/* Returns a static message for a status code: project codes, -errno values,
 * or "success" for 0. Never returns NULL. */
const char *rl_strerror(int err);

#endif
