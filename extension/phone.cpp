/*
 * phone.cpp: the C++ shim over libphonenumber (foundation; phone.h says
 * what it answers).
 *
 * The only C++ of the extension, kept to what the C code cannot do itself.
 * Rules, because it runs inside a PostgreSQL backend:
 *   - no C++ exception crosses into C: everything is inside one
 *     try { } catch (...), an error of any kind is "not a number";
 *   - no PostgreSQL header and no PostgreSQL call (no palloc, no ereport):
 *     a longjmp through C++ frames would skip their destructors; the C
 *     caller (sender.c) decides what a failure means;
 *   - it writes only into the caller's buffer.
 * libphonenumber 8.12 as Debian builds it logs nothing by default (its
 * default logger is a NullLogger; older releases wrote to stdout), and a
 * backend's stdout is the server log: the shim installs a NullLogger once
 * anyway, so that no build of the library ever writes there.
 */
#include <cstring>
#include <string>

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include "phone.h"

using i18n::phonenumbers::NullLogger;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

static PhoneNumberUtil *
phone_util()
{
	static bool quiet = false;
	PhoneNumberUtil *util = PhoneNumberUtil::GetInstance();

	if (!quiet)
	{
		util->SetLogger(new NullLogger());	/* the util takes ownership */
		quiet = true;
	}
	return util;
}

extern "C" bool
sb_phone_e164(const char *number, const char *region, char *out, size_t outlen)
{
	try
	{
		PhoneNumberUtil *util;
		PhoneNumber pn;
		std::string e164;

		if (number == NULL || out == NULL || outlen == 0)
			return false;
		util = phone_util();
		if (util->Parse(number, region != NULL ? region : "ZZ", &pn) != PhoneNumberUtil::NO_PARSING_ERROR ||
			!util->IsPossibleNumber(pn))
			return false;
		util->Format(pn, PhoneNumberUtil::E164, &e164);
		if (e164.empty() || e164.size() >= outlen)
			return false;
		std::memcpy(out, e164.c_str(), e164.size() + 1);
		return true;
	}
	catch (...)
	{
		return false;
	}
}

extern "C" bool
sb_phone_region_known(const char *region)
{
	try
	{
		return region != NULL && phone_util()->GetCountryCodeForRegion(region) != 0;
	}
	catch (...)
	{
		return false;
	}
}
