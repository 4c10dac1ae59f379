# salesboard: PGXS build, and the entry points people type.
#
#   make && make install      build and install into the PostgreSQL that
#                             pg_config names (needs postgresql-server-dev-15)
#   make demo                 sample company on a private throwaway cluster
#   make shell                the same, then psql on it until you quit
#   make test                 every suite on a private throwaway cluster
#   make bench / bench-quick  benchmarks (bench/README.md)
#
# `make demo` and `make test` install what is missing themselves (as root on
# Debian 12), so this file must parse even before PGXS is installed: the
# PGXS include is guarded.

EXTENSION   = salesboard
MODULE_big  = salesboard
# the C files, and the C++ shim over libphonenumber (extension/phone.cpp)
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard extension/*.c))) \
              $(patsubst %.cpp,%.o,$(sort $(wildcard extension/*.cpp)))
DATA        = $(sort $(wildcard extension/salesboard--*.sql))
# upgrade scripts, each joined from its per-feature fragments
# (extension/upgrade/FROM--TO/*.sql, in file-name order)
UPGRADES    = $(patsubst extension/upgrade/%,salesboard--%.sql,$(sort $(wildcard extension/upgrade/*)))
DATA_built  = $(UPGRADES)
PG_CPPFLAGS = -I$(srcdir)/extension
# libphonenumber (Debian's libphonenumber-dev) for phone.cpp, and the C++
# runtime it needs: PGXS links the library with the C compiler
SHLIB_LINK += -lphonenumber -lstdc++

# pg_regress suites (sql/ -> expected/), in this order.
REGRESS      = install discipline_basics board_basics
REGRESS_OPTS = --inputdir=.

# isolation specs (test/isolation/specs -> test/isolation/expected)
ISOLATION      = $(basename $(notdir $(sort $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output_iso --load-extension=salesboard

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all:
	@echo "salesboard: pg_config/PGXS not found; install postgresql-server-dev-15 (make test does it for you as root)" >&2
	@exit 1
endif

salesboard--%.sql: extension/upgrade/%/*.sql
	cat $(sort $(wildcard extension/upgrade/$*/*.sql)) > $@

# every object depends on the headers (PGXS tracks no headers)
$(OBJS): $(wildcard extension/*.h)

.PHONY: test demo shell bench bench-quick deps

deps:
	@bash scripts/deps.sh

test:
	@bash scripts/test.sh

demo:
	@bash scripts/demo.sh

shell:
	@bash scripts/demo.sh --shell

bench:
	@bash bench/run.sh --scale 1000000

bench-quick:
	@bash bench/run.sh --scale 100000

# used by the scripts: `make -s print-REGRESS`
print-%:
	@echo $($*)
