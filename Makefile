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
# code only. -O3 for the kernels.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -Isrc/core
PG_CXXFLAGS = -std=c++17 -O3 -Wall -Wextra -Werror -Wno-missing-field-initializers -MMD -MP
SHLIB_LINK = -lstdc++ -lm

# FAISS (with OpenMP, LAPACK and BLAS) is linked into a second module,
# nmvec_faiss.so, that a backend loads only when it uses FAISS: linked into
# nmvec.so it cost every new connection ~10 ms and a spinning OpenBLAS thread
# (src/faiss/nmvec_faiss.cpp).
FAISS_MODULE = nmvec_faiss$(DLSUFFIX)
FAISS_OBJS = src/faiss/nmvec_faiss.o src/faiss/kmeans.o

# Per-ISA flags keyed by file-name suffix (the same three as CMakeLists.txt).
ISA_avx2 = -mavx2 -mfma -mf16c
ISA_avx512 = $(ISA_avx2) -mavx512f -mavx512bw -mavx512dq -mavx512vl
ISA_avx512fp16 = $(ISA_avx512) -mavx512fp16

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/core/%_avx2.o: override CXXFLAGS += $(ISA_avx2)
src/core/%_avx512.o: override CXXFLAGS += $(ISA_avx512)
src/core/%_avx512fp16.o: override CXXFLAGS += $(ISA_avx512fp16)

$(FAISS_OBJS): override CXXFLAGS += -fopenmp

all: $(FAISS_MODULE)

$(FAISS_MODULE): $(FAISS_OBJS)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $(LDFLAGS_SL) -shared -o $@ $^ $(FAISS_LIB) -fopenmp -llapack -lblas -lstdc++ -lm

install: install-faiss-module
.PHONY: install-faiss-module uninstall-faiss-module
install-faiss-module: $(FAISS_MODULE)
	$(INSTALL_SHLIB) $(FAISS_MODULE) '$(DESTDIR)$(pkglibdir)/$(FAISS_MODULE)'

uninstall: uninstall-faiss-module
uninstall-faiss-module:
	rm -f '$(DESTDIR)$(pkglibdir)/$(FAISS_MODULE)'

# Header dependencies (-MMD above): a changed header rebuilds its users.
-include $(OBJS:.o=.d) $(FAISS_OBJS:.o=.d)
EXTRA_CLEAN = $(OBJS:.o=.d) $(FAISS_OBJS) $(FAISS_OBJS:.o=.d) $(FAISS_MODULE)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_FRAGMENTS)
	cat $^ > $@

.PHONY: unit
unit:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build -j2
	cd build && ctest --output-on-failure
