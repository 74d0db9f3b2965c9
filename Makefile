# lazysweep — one plain Makefile. `make` builds build/lazysweep and build/liblazysweep.a;
# `make run` and `make test` first install any missing Debian package (scripts/deps.sh).

BUILD   ?= build
PKGS    := ompi-c openblas hdf5 yaml-0.1 lapacke zlib
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iinclude \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lm
SAN     ?=
ifneq ($(SAN),)
CFLAGS  += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SAN)
endif

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
PYTEST   := /usr/bin/python3 -m pytest

.PHONY: all deps run test unit e2e bench asan ubsan format clean
all: $(BUILD)/lazysweep $(BUILD)/liblazysweep.a $(TEST_BIN)

$(BUILD)/obj/%.o: src/%.c $(wildcard include/lazysweep/*.h) | $(BUILD)/obj
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/liblazysweep.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/lazysweep: $(BUILD)/obj/main.o $(BUILD)/liblazysweep.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblazysweep.a | $(BUILD)/tests
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/liblazysweep.a $(LDLIBS) -lcmocka -o $@

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

deps:
	@sh scripts/deps.sh

# The main job on local MPI ranks (1 coordinator + 2 workers), then where it went and a summary.
run: deps
	$(MAKE) all
	@sh scripts/run-quickstart.sh

unit: all
	@sh scripts/run-unit.sh $(BUILD)/tests

e2e: all
	$(PYTEST) -q tests/e2e

test: deps
	$(MAKE) all
	@sh scripts/run-unit.sh $(BUILD)/tests
	$(MAKE) asan-unit
	$(PYTEST) -q tests/e2e

bench: deps
	$(MAKE) all
	@sh bench/sweep_throughput.sh

# Sanitizer builds in their own directories; the unit tests and the bad-job corpus run under them.
asan:
	$(MAKE) BUILD=build/asan SAN=address,undefined all
asan-unit: asan
	@ASAN_OPTIONS=detect_leaks=0 sh scripts/run-unit.sh build/asan/tests
ubsan:
	$(MAKE) BUILD=build/ubsan SAN=undefined all
	@sh scripts/run-unit.sh build/ubsan/tests

format:
	clang-format -i src/*.c include/lazysweep/*.h tests/unit/*.c

clean:
	rm -rf build
