// pg.h — the one place C++ code includes Postgres headers.
//
// Standard C++ headers come first: Postgres's port.h redefines printf,
// snprintf and friends as macros, which would break <cstdio> and friends if
// they were included afterwards. Postgres headers are C: wrap them in
// extern "C". Macros that clash with C++ are undone at the end.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>

extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
}

// Postgres's c.h defines these as function-like macros; C++ code uses std::.
#ifdef Max
#undef Max
#endif
#ifdef Min
#undef Min
#endif
#ifdef Abs
#undef Abs
#endif
