/* Status codes to messages (error.h). */
#include <string.h>

#include "roadlog/error.h"

const char *rl_strerror(int err)
{
    if (err == 0)
        return "success";
    switch (err) {
#define RL_ERRNO_CASE(name, value, msg)                                                            \
    case RL_##name:                                                                                \
        return msg;
        RL_ERRNO_MAP(RL_ERRNO_CASE)
#undef RL_ERRNO_CASE
    default:
        break;
    }
    if (err < 0 && err > -4000)
        return strerror(-err);
    return "unknown error";
}
