/* NMEA 0183 helpers shared by the parser (nmea.c) and the encoders
 * (nmea_format.c). */
#ifndef RL_NMEA_INTERNAL_H
#define RL_NMEA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#define RL__NMEA_NS_PER_S  1000000000LL
#define RL__NMEA_S_PER_DAY 86400LL
#define RL__NMEA_KNOT_MPS  (1852.0 / 3600.0) /* one international knot */
#define RL__NMEA_KMH_MPS   (1.0 / 3.6)

/* A character of an address (talker + sentence id): [A-Z0-9]. */
static inline bool rl__nmea_addr_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Is year-month-day a date of the Gregorian calendar? */
bool rl__nmea_date_ok(int year, int month, int day);

/* Seconds of the day to hours, minutes, seconds; 86400 and above are the
 * leap second 23:59:60. */
void rl__nmea_split_tod(int64_t s, int hms[3]);

#endif
