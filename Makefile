# thingcore build. `make` builds; `make check` installs what is missing,
# builds, and runs every test twice (plain, then under AddressSanitizer and
# UndefinedBehaviorSanitizer); `make demo` shows the flow.

BUILD ?= build
SAN ?=
CC ?= cc
PKGS := openssl jansson sqlite3 libmicrohttpd

ifeq ($(SAN),1)
OPT ?= -O1
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
else
OPT ?= -O2
SANFLAGS :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Wshadow \
	-Wno-unused-parameter -fPIC -Iinclude $(PKG_CFLAGS) $(SANFLAGS) \
	$(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS) -lmosquitto -lpthread -lutil
# Shared objects loaded into other programs (the broker plugin inside
# mosquitto, the PKCS#11 module anywhere) never link the MQTT client library.
SO_LIBS := $(PKG_LIBS) -lpthread

# Programs live in their own folders; everything else is the library.
PROGRAM_DIRS := src/cli src/plugin src/pkcs11
LIB_SRC := $(filter-out $(addsuffix /%,$(PROGRAM_DIRS)),$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/cli/*.c))
PKCS11_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/pkcs11/*.c))
PLUGIN_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/plugin/*.c))
UNIT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,\
	tests/unit/runner.c $(wildcard tests/unit/*/*.c))
FUZZ_NAMES := $(basename $(notdir $(filter-out fuzz/replay.c,\
	$(wildcard fuzz/*.c))))
BENCH_NAMES := $(basename $(notdir $(wildcard bench/*.c)))

TARGETS := $(BUILD)/libthingcore.a $(BUILD)/thingcore $(BUILD)/unit-tests \
	$(FUZZ_NAMES:%=$(BUILD)/fuzz/%) $(BENCH_NAMES:%=$(BUILD)/bench/%)
ifneq ($(PKCS11_OBJ),)
TARGETS += $(BUILD)/thingcore-pkcs11.so
endif
ifneq ($(PLUGIN_OBJ),)
TARGETS += $(BUILD)/thingcore-plugin.so
endif

.PHONY: all check demo deps clean fuzz format
# Objects of fuzz targets and benches are kept, not treated as temporary.
.SECONDARY:
all: $(TARGETS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libthingcore.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/thingcore: $(CLI_OBJ) $(BUILD)/libthingcore.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libthingcore.a $(LIBS)

$(BUILD)/thingcore-pkcs11.so: $(PKCS11_OBJ) $(BUILD)/libthingcore.a
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=src/pkcs11/exports.map \
		-o $@ $(PKCS11_OBJ) $(BUILD)/libthingcore.a $(SO_LIBS)

$(BUILD)/thingcore-plugin.so: $(PLUGIN_OBJ) $(BUILD)/libthingcore.a
	$(CC) $(LDFLAGS) -shared -o $@ $(PLUGIN_OBJ) $(BUILD)/libthingcore.a \
		$(SO_LIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libthingcore.a
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(BUILD)/libthingcore.a $(LIBS)

# Each fuzz target links with a replay main so the test run can feed it
# its corpus; `make fuzz` builds the libFuzzer versions with clang.
$(BUILD)/fuzz/%: $(BUILD)/obj/fuzz/%.o $(BUILD)/obj/fuzz/replay.o \
		$(BUILD)/libthingcore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/obj/fuzz/replay.o \
		$(BUILD)/libthingcore.a $(LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libthingcore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libthingcore.a $(LIBS)

fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
		build-fuzz/libthingcore.a
	@mkdir -p build-fuzz/libfuzzer
	for t in $(FUZZ_NAMES); do \
		clang -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude $(PKG_CFLAGS) \
			-fsanitize=fuzzer,address,undefined fuzz/$$t.c \
			build-fuzz/libthingcore.a $(LIBS) \
			-o build-fuzz/libfuzzer/$$t || exit 1; \
	done
	@echo "run: build-fuzz/libfuzzer/NAME fuzz/corpus/NAME"

deps:
	sh scripts/deps.sh

JOBS := $(shell nproc 2>/dev/null || echo 2)

check: deps
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) SAN=1 BUILD=build-asan all
	sh tests/run.sh

demo: deps
	$(MAKE) -j$(JOBS) all
	sh scripts/demo.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
