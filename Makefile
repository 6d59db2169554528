# ovio - overlapped file I/O as a service.
#
#   make            build oviod, ovio, libovio and the tests (Linux)
#   make run        install dependencies, build, start oviod on ./run/data
#   make test       install dependencies, build, run every test
#   make deps       install the Debian packages the build needs
#   make install    install under PREFIX (default /usr/local)
#   make clean
#
#   V=1                          show the commands
#   SANITIZER=address,undefined  build (into build/san) with sanitizers
#   WERROR=1                     warnings are errors (CI)

PREFIX  ?= /usr/local
CC      ?= cc
PROTOC_C ?= protoc-c

ifneq ($(SANITIZER),)
B       ?= build/san
SANFLAGS := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
else
B       ?= build
SANFLAGS :=
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -MMD -MP \
	-Ilib -Iservice -I$(B)/gen
LDFLAGS ?=
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)
LIBS    := -lnng -lprotobuf-c -pthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

GEN      := $(B)/gen/ovio.pb-c.c $(B)/gen/ovio.pb-c.h
LIB_SRC  := lib/error.c lib/wire.c lib/client.c lib/blocking.c \
	lib/platform_posix.c $(B)/gen/ovio.pb-c.c
SVC_SRC  := service/engine.c service/dispatch.c service/server.c \
	service/session.c service/handle.c service/deferred_close.c \
	service/log.c service/oviod.c service/fs_path.c service/fs_posix.c \
	service/port.c service/port_list_linux.c service/port_uring.c \
	service/port_threads.c
HOST_SRC := service/host_posix.c
MAIN_SRC := service/main_posix.c
CLI_SRC  := client/ovio.c client/progress.c

obj = $(patsubst %.c,$(B)/obj/%.o,$(patsubst $(B)/%,%,$(1)))

LIB_OBJ  := $(call obj,$(LIB_SRC))
SVC_OBJ  := $(call obj,$(SVC_SRC))
HOST_OBJ := $(call obj,$(HOST_SRC))
MAIN_OBJ := $(call obj,$(MAIN_SRC))
CLI_OBJ  := $(call obj,$(CLI_SRC))

TESTS    := unit_test backend_test e2e_test
TEST_BIN := $(addprefix $(B)/tests/,$(TESTS)) $(B)/tests/hold_client

.PHONY: all test run deps install clean bench check-san
all: $(B)/oviod $(B)/ovio $(B)/libovio.a $(B)/libovio.so $(TEST_BIN)

$(B)/gen/ovio.pb-c.c $(B)/gen/ovio.pb-c.h: proto/ovio.proto
	@mkdir -p $(B)/gen
	@echo "  PROTOC  $<"
	$(Q)$(PROTOC_C) --c_out=$(B)/gen -Iproto $<

$(B)/obj/%.o: %.c | $(GEN)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(B)/libovio.a: $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# The shared library exports the public API (ovio_*) and nothing else.
$(B)/libovio.so: $(LIB_OBJ) lib/libovio.map
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(ALL_LDFLAGS) -Wl,--version-script=lib/libovio.map \
		-Wl,-soname,libovio.so.0 -o $@ $(LIB_OBJ) $(LIBS)

$(B)/oviod: $(MAIN_OBJ) $(SVC_OBJ) $(HOST_OBJ) $(B)/libovio.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -luring

$(B)/ovio: $(CLI_OBJ) $(B)/libovio.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lm

$(B)/tests/hold_client: $(B)/obj/tests/hold_client.o $(B)/libovio.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# Test programs link the engine without its host (no main()).
$(B)/tests/%: $(B)/obj/tests/%.o $(B)/obj/tests/testutil.o $(SVC_OBJ) $(HOST_OBJ) \
		$(B)/libovio.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -luring $(CHECK_LIBS)

deps:
	$(Q)install/deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run.sh $(B)

# The same tests under AddressSanitizer and UBSan (part of make test).
check-san:
	$(Q)$(MAKE) --no-print-directory SANITIZER=address,undefined all
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		tests/run.sh build/san

RUN_DIR  := $(CURDIR)/run
run: deps
	$(Q)$(MAKE) --no-print-directory $(B)/oviod $(B)/ovio
	@mkdir -p $(RUN_DIR)/data
	@echo
	@echo "oviod serves $(RUN_DIR)/data on the default endpoint."
	@echo "In another terminal:"
	@echo "  $(CURDIR)/$(B)/ovio status"
	@echo "  $(CURDIR)/$(B)/ovio put README.md readme.txt"
	@echo "  $(CURDIR)/$(B)/ovio cat readme.txt"
	@echo "Stop it with Ctrl-C."
	@echo
	$(Q)exec $(B)/oviod --root $(RUN_DIR)/data

bench: all
	$(Q)tests/bench.sh $(B)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/doc/ovio
	install -m 755 $(B)/oviod $(B)/ovio $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/libovio.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libovio.so $(DESTDIR)$(PREFIX)/lib/libovio.so.0
	ln -sf libovio.so.0 $(DESTDIR)$(PREFIX)/lib/libovio.so
	install -m 644 lib/ovio.h lib/ovio_err.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 README.md docs/reference.md \
		$(DESTDIR)$(PREFIX)/share/doc/ovio/
	install -d $(DESTDIR)/etc/systemd/system
	sed 's#@PREFIX@#$(PREFIX)#g' install/oviod.service \
		> $(DESTDIR)/etc/systemd/system/oviod.service

clean:
	rm -rf build run

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
.SECONDARY:
