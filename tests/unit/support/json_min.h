/* A tiny JSON parser for the tests (never for the library or the CLI):
 * objects, arrays, strings with escapes (\uXXXX included, as UTF-8),
 * numbers kept as their text, true, false and null. The whole document is
 * parsed into a tree of json_value nodes owned by the root. */
#ifndef RL_TEST_JSON_MIN_H
#define RL_TEST_JSON_MIN_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
    enum json_type type;
    bool boolean;              /* JSON_BOOL */
    char *text;                /* JSON_NUMBER (as written) and JSON_STRING, NUL-terminated */
    size_t text_len;           /* length of text (strings may hold NUL) */
    size_t n;                  /* JSON_ARRAY / JSON_OBJECT: number of items */
    char **keys;               /* JSON_OBJECT: n keys, NUL-terminated */
    struct json_value **items; /* JSON_ARRAY / JSON_OBJECT: n values */
};

/* Parses len bytes of text. Returns the root, or NULL with a message
 * ("line 3, column 7: expected ':'") in err. */
struct json_value *json_parse(const char *text, size_t len, char *err, size_t err_len);
/* Reads and parses a whole file. */
struct json_value *json_parse_file(const char *path, char *err, size_t err_len);
void json_free(struct json_value *v);

/* The value of key in an object, or NULL. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
/* Item i of an array or object, or NULL. */
const struct json_value *json_at(const struct json_value *v, size_t i);

/* Constructors, for building values to compare against parsed ones. Each
 * returns NULL when out of memory; json_push/json_put take ownership of the
 * item (also on failure) and return false when out of memory. */
struct json_value *json_new(enum json_type type);
struct json_value *json_new_string(const char *s, size_t len);
struct json_value *json_new_number_u64(unsigned long long v);
bool json_push(struct json_value *arr, struct json_value *item);
bool json_put(struct json_value *obj, const char *key, struct json_value *item);

/* Structural equality: objects compare as sets of keys (order ignored),
 * arrays item by item. On a difference, path receives where it is
 * ("[2][1]" or ".foo") and why ("expected \"3\", got \"4\""). */
bool json_equal(const struct json_value *expected, const struct json_value *actual, char *why,
                size_t why_len);

/* Writes v as compact JSON into buf (truncated to buf_len). */
void json_format(const struct json_value *v, char *buf, size_t buf_len);

#endif
