/*
 * phone.h: phone numbers in E.164 form (foundation), through Debian's
 * libphonenumber (package libphonenumber-dev).
 *
 * A plain C header: phone.cpp is a small C++ shim that includes no
 * PostgreSQL header and calls no PostgreSQL function. It lets no C++
 * exception out and writes only into the caller's buffer, so the C code
 * may call it anywhere.
 */
#ifndef SB_PHONE_H
#define SB_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C"
{
#endif

/*
 * The E.164 form of number ("+74951234567") into out (outlen bytes, NUL
 * included; 17 are always enough). region is an ISO 3166-1 alpha-2 code
 * for numbers written in national form ("8 495 ...", "(212) 555-0100"), or
 * NULL: then only numbers in international form ("+7 ...") are recognised.
 * True when libphonenumber parses the text as a possible number of its
 * country; false otherwise (then out is untouched): not a number, too
 * short or too long, an unknown region, any error inside the library.
 * number must be UTF-8 (or ASCII).
 */
extern bool sb_phone_e164(const char *number, const char *region, char *out, size_t outlen);

/*
 * Does libphonenumber know region (an ISO 3166-1 alpha-2 code) as a region
 * with phone numbers of its own (a country calling code)? False for codes
 * it does not know ("XX", "ZZ") and on any error inside the library.
 */
extern bool sb_phone_region_known(const char *region);

#ifdef __cplusplus
}
#endif

#endif							/* SB_PHONE_H */
