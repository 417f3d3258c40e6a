/*
 * The UTC dates of Intel collateral: exactly "YYYY-MM-DDThh:mm:ssZ", with no
 * fractional seconds, offsets or leap seconds.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <attest/tcb.h>

#define TIME_TEXT_SIZE 20

/* Reads count decimal digits at text. Returns false if any is not a digit. */
static bool read_digits(const char *text, size_t count, int *out_value)
{
    int value = 0;
    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        value = value * 10 + (text[i] - '0');
    }
    *out_value = value;
    return true;
}

static bool is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && is_leap_year(year)) {
        return 29;
    }
    return days[month - 1];
}

attest_err attest_time_parse(const char *text, time_t *out_time)
{
    if (text == NULL || strlen(text) != TIME_TEXT_SIZE) {
        return ATTEST_ERR_TIME_FORMAT;
    }
    if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
        text[16] != ':' || text[19] != 'Z') {
        return ATTEST_ERR_TIME_FORMAT;
    }

    int year, month, day, hour, minute, second;
    if (!read_digits(text, 4, &year) || !read_digits(text + 5, 2, &month) ||
        !read_digits(text + 8, 2, &day) || !read_digits(text + 11, 2, &hour) ||
        !read_digits(text + 14, 2, &minute) || !read_digits(text + 17, 2, &second)) {
        return ATTEST_ERR_TIME_FORMAT;
    }

    /* timegm would normalize month 13 or 31 April silently, so check ranges first. */
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 59) {
        return ATTEST_ERR_TIME_FORMAT;
    }

    struct tm fields;
    memset(&fields, 0, sizeof(fields));
    fields.tm_year = year - 1900;
    fields.tm_mon = month - 1;
    fields.tm_mday = day;
    fields.tm_hour = hour;
    fields.tm_min = minute;
    fields.tm_sec = second;
    time_t result = timegm(&fields);
    if (result == (time_t)-1 && !(year == 1969 && month == 12 && day == 31 && hour == 23 &&
                                  minute == 59 && second == 59)) {
        return ATTEST_ERR_TIME_FORMAT;
    }

    *out_time = result;
    return ATTEST_OK;
}

void attest_time_format(time_t t, char out[21])
{
    struct tm fields;
    if (gmtime_r(&t, &fields) == NULL || fields.tm_year < -1900 || fields.tm_year > 9999 - 1900) {
        /* NOTE: a time outside the years 0000 to 9999 has no such form, so this marker is written. */
        memcpy(out, "0000-00-00T00:00:00Z", 21);
        return;
    }
    /* Every field is in range here. The unsigned remainders only bound the widths for the compiler. */
    snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(fields.tm_year + 1900) % 10000u,
             (unsigned)(fields.tm_mon + 1) % 100u, (unsigned)fields.tm_mday % 100u,
             (unsigned)fields.tm_hour % 100u, (unsigned)fields.tm_min % 100u,
             (unsigned)fields.tm_sec % 100u);
}
