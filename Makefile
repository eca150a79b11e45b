# PGXS build of the extension. CMakeLists.txt builds the core, unit tests and
# micro benchmarks from the same directories (see the comment there).
#
#   make && make install          build and install into PostgreSQL 15
#   make installcheck             pg_regress against a running server
#   (scripts/test.sh runs everything against a throwaway cluster)

EXTENSION = nmvec
EXTVERSION = 0.1.0
MODULE_big = nmvec

CORE_SRCS := $(sort $(wildcard src/core/*.cpp))
PG_SRCS := $(sort $(wildcard src/pg/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The install script is built from readable fragments, in name order.
SQL_FRAGMENTS := $(sort $(wildcard src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql

REGRESS = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)

# No LLVM bitcode for JIT inlining: our code is C++ and JIT buys nothing here.
override with_llvm = no

FAISS_LIB ?= /usr/lib/x86_64-linux-gnu/libfaiss.a

# Postgres headers are system headers for us: -Wextra -Werror applies to our
# code only. -O3 for the kernels; -fopenmp because FAISS uses OpenMP.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -Isrc/core
PG_CXXFLAGS = -std=c++17 -O3 -fopenmp -Wall -Wextra -Werror -Wno-missing-field-initializers -MMD -MP
SHLIB_LINK = $(FAISS_LIB) -lgomp -llapack -lblas -lstdc++ -lm

# Per-ISA flags keyed by file-name suffix (the same three as CMakeLists.txt).
ISA_avx2 = -mavx2 -mfma -mf16c
ISA_avx512 = $(ISA_avx2) -mavx512f -mavx512bw -mavx512dq -mavx512vl
ISA_avx512fp16 = $(ISA_avx512) -mavx512fp16

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/core/%_avx2.o: override CXXFLAGS += $(ISA_avx2)
src/core/%_avx512.o: override CXXFLAGS += $(ISA_avx512)
src/core/%_avx512fp16.o: override CXXFLAGS += $(ISA_avx512fp16)

# Header dependencies (-MMD above): a changed header rebuilds its users.
-include $(OBJS:.o=.d)
EXTRA_CLEAN = $(OBJS:.o=.d)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_FRAGMENTS)
	cat $^ > $@

.PHONY: unit
unit:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build -j2
	cd build && ctest --output-on-failure
