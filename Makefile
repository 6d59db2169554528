# ovio - overlapped file I/O as a service.
#
#   make            build oviod, ovio, libovio and the tests (Linux)
#   make run        install dependencies, build, start oviod on ./run/data
#   make test       install dependencies, build, run every test (Linux,
#                   sanitizers, Windows under Wine)
#   make bench      build, then measure ovio against raw nng (an echo and
#                   a plain file server) and fio in one run and print the
#                   table (tests/bench/run.sh; README.md, "Performance")
#   make fio-engine build/ovio_fio.so, an external fio ioengine that does
#                   its I/O through oviod (client/fio/ovio_fio.c):
#                   fio --ioengine=external:build/ovio_fio.so ...
#   make fuzz       build the libFuzzer harnesses (clang, ASan, UBSan) and
#                   run each for FUZZ_TIME seconds (default 300), or for
#                   FUZZ_RUNS new inputs each
#   make deps       install the Debian packages building and running need
#   make test-deps  ... and those the tests, fuzzers and benchmark need
#   make install    install under PREFIX (default /usr/local), the config
#                   in SYSCONFDIR/ovio (default /etc), the systemd unit in
#                   PREFIX/lib/systemd/system; DESTDIR=... stages it
#   make uninstall  remove what install put (the config stays)
#   make clean
#
#   V=1                          show the commands
#   SANITIZER=address,undefined  build (into build/san) with sanitizers
#   WERROR=1                     warnings are errors (CI)

PREFIX  ?= /usr/local
CC      ?= cc
PROTOC_C ?= protoc-c

ifneq ($(SANITIZER),)
# ThreadSanitizer cannot share objects with ASan: its own folder.
ifeq ($(SANITIZER),thread)
B       ?= build/san-thread
else
B       ?= build/san
endif
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

# nng is Debian's 1.5.2 source with ovio's patches, built by install/nng.sh
# into build/nng and linked statically (see install/nng-patches).
NNG_DIR := build/nng

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -MMD -MP \
	-I$(NNG_DIR)/include \
	-Ilib -Iservice/engine -Iservice/port -Iservice/os -I$(B)/gen
LDFLAGS ?=
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)
NNG_LIB := $(NNG_DIR)/lib/libnng.a
# nng's TLS (tls+tcp://) is mbedTLS, linked statically as nng is, so that
# oviod, ovio and libovio.so need no mbedTLS at run time.
TLS_LIBS := -l:libmbedtls.a -l:libmbedx509.a -l:libmbedcrypto.a
LIBS    := $(NNG_LIB) $(TLS_LIBS) -lprotobuf-c -pthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

GEN      := $(B)/gen/ovio.pb-c.c $(B)/gen/ovio.pb-c.h
LIB_SRC  := lib/abi.c lib/error.c lib/wire.c lib/client.c lib/blocking.c lib/tls.c \
	lib/admin.c lib/metrics.c \
	lib/number.c lib/platform_posix.c $(B)/gen/ovio.pb-c.c
# The engine is the same on every OS; the rest is per OS.
ENGINE_SRC := $(addprefix service/engine/,engine.c dispatch.c server.c admin.c \
	session.c handle.c deferred_close.c op.c timer.c reply_cache.c log.c \
	oviod.c ini_options.c validate.c workers.c namespace.c alloc.c \
	stats.c metrics.c batch.c) \
	service/port/port.c service/os/fs_path.c service/os/fs_ns_path.c
SVC_SRC  := $(ENGINE_SRC) service/os/posix/fs.c service/os/posix/fs_ns.c \
	service/os/posix/beneath.c service/os/posix/fs_temp.c \
	service/port/list_linux.c \
	service/port/uring.c service/port/threads.c service/port/nowait_linux.c
HOST_SRC := service/os/posix/host.c
MAIN_SRC := service/os/posix/main.c
CLI_SRC  := client/ovio.c client/admin.c client/progress.c client/remote.c \
	client/service_posix.c \
	client/localfile.c client/localfile_posix.c client/bench.c client/bench_load.c

obj = $(patsubst %.c,$(B)/obj/%.o,$(patsubst $(B)/%,%,$(1)))

LIB_OBJ  := $(call obj,$(LIB_SRC))
SVC_OBJ  := $(call obj,$(SVC_SRC))
HOST_OBJ := $(call obj,$(HOST_SRC))
MAIN_OBJ := $(call obj,$(MAIN_SRC))
CLI_OBJ  := $(call obj,$(CLI_SRC))

TESTS    := unit_test engine_test backend_test e2e_test admin_test race_test \
	stress_test confine_test tls_test peer_test fault_test
TEST_BIN := $(addprefix $(B)/tests/,$(TESTS)) $(B)/tests/hold_client \
	$(B)/tests/nng_bench $(B)/tests/noopenat2

.PHONY: all test run deps test-deps install uninstall clean check-san bench fuzz fuzz-build \
	fio-engine
all: $(B)/oviod $(B)/ovio $(B)/libovio.a $(B)/libovio.so \
	$(B)/libovio-install.a $(B)/examples/hello $(B)/man/oviod.8 $(TEST_BIN)

$(B)/gen/ovio.pb-c.c $(B)/gen/ovio.pb-c.h: proto/ovio.proto
	@mkdir -p $(B)/gen
	@echo "  PROTOC  $<"
	$(Q)$(PROTOC_C) --c_out=$(B)/gen -Iproto $<

$(NNG_LIB): install/nng.sh install/lib.sh $(wildcard install/nng-patches/*.patch)
	$(Q)install/nng.sh $(NNG_DIR) && touch $@

$(B)/obj/%.o: %.c | $(GEN) $(NNG_LIB)
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

# What make install installs as libovio.a: libovio and the patched nng in
# one archive, so a static link needs nothing of Debian's nng.
$(B)/libovio-install.a: $(B)/libovio.a $(NNG_LIB)
	@echo "  AR      $@"
	$(Q)rm -f $@ && printf 'CREATE %s\nADDLIB %s\nADDLIB %s\nSAVE\nEND\n' \
		$@ $(B)/libovio.a $(NNG_LIB) | ar -M

# The man pages (docs/man/*.in), with the programs' own help texts in them.
MAN_PAGES := oviod.8 oviod.conf.5 ovio.1 libovio.3
$(B)/man/oviod.8: $(wildcard docs/man/*.in) docs/man/build.sh $(B)/oviod $(B)/ovio
	@echo "  MAN     $(B)/man"
	$(Q)docs/man/build.sh $(B) $(B)/man $(PREFIX)/share/doc/ovio

# The example (examples/hello.c), as a user builds it: ovio.h, libovio.
$(B)/examples/hello: examples/hello.c $(B)/libovio.a $(NNG_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(B)/libovio.a $(LIBS)

# The shared library exports the public API (ovio_*) and nothing else.
$(B)/libovio.so: $(LIB_OBJ) lib/libovio.map $(NNG_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(ALL_LDFLAGS) -Wl,--version-script=lib/libovio.map \
		-Wl,-soname,libovio.so.0 -o $@ $(LIB_OBJ) $(LIBS)

$(B)/oviod: $(MAIN_OBJ) $(SVC_OBJ) $(HOST_OBJ) $(B)/libovio.a $(NNG_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -luring

$(B)/ovio: $(CLI_OBJ) $(B)/libovio.a $(NNG_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lm

$(B)/tests/hold_client: $(B)/obj/tests/hold_client.o $(B)/libovio.a $(NNG_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The raw nng baselines of `make bench` (tests/bench/nng_bench.c: an echo,
# and with --file a plain file server): the same nng and the same load loop
# as `ovio bench`, nothing else of ovio's.
$(B)/tests/nng_bench: $(B)/obj/tests/bench/nng_bench.o \
		$(B)/obj/client/bench_load.o $(B)/obj/lib/number.o $(NNG_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NNG_LIB) $(TLS_LIBS) -pthread

# Runs a program with openat2 failing, as under a container's seccomp filter.
$(B)/tests/noopenat2: $(B)/obj/tests/noopenat2.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# Test programs link the engine without its host (no main()).
$(B)/tests/%: $(B)/obj/tests/%.o $(B)/obj/tests/testutil.o $(SVC_OBJ) $(HOST_OBJ) \
		$(B)/libovio.a $(NNG_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -luring $(CHECK_LIBS)

# The fio engine (client/fio/ovio_fio.c), for the installed fio only: an
# external engine reads fio's own structures, so it is compiled against
# the headers of that fio's Debian source, which install/fio-src.sh
# unpacks into build/fio-src and configures (config-host.h), checking
# that its version is the installed fio's.  One shared object: libovio,
# nng and mbedTLS are linked in statically (their objects are -fPIC) and
# kept local (--exclude-libs), so that only `ioengine` is exported and no
# symbol of theirs meets one of fio's.  Not with SANITIZER: fio is not
# built with one.  fio-src.sh runs first every time (it only checks when
# the source is there and fio has not changed): the .SECONDARY below
# would let a missing header pass for up to date.
FIO_SRC_DIR := build/fio-src
FIO_SRC     := $(FIO_SRC_DIR)/current

fio-engine:
ifneq ($(SANITIZER),)
	@echo "make fio-engine: not with SANITIZER= (fio is not built with it)" >&2; exit 2
else
	$(Q)install/fio-src.sh $(FIO_SRC_DIR)
	$(Q)$(MAKE) --no-print-directory $(B)/ovio_fio.so
endif

$(FIO_SRC)/config-host.h: install/fio-src.sh install/lib.sh
	$(Q)install/fio-src.sh $(FIO_SRC_DIR) && touch $@

$(B)/obj/client/fio/ovio_fio.o: ALL_CFLAGS += -D_GNU_SOURCE \
	-include $(FIO_SRC)/config-host.h -I$(FIO_SRC)
$(B)/obj/client/fio/ovio_fio.o: $(FIO_SRC)/config-host.h

$(B)/ovio_fio.so: $(B)/obj/client/fio/ovio_fio.o $(B)/libovio.a $(NNG_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(ALL_LDFLAGS) -Wl,--exclude-libs,ALL -o $@ $< \
		$(B)/libovio.a $(LIBS)

# Fuzzing: libFuzzer harnesses (clang) over the wire decode and validation
# (fuzz/frame_fuzz.c) and a live engine in-process (fuzz/live_fuzz.c),
# built with ASan and UBSan into build/fuzz; fuzz/make_seeds writes their
# seed corpus.  tests/fuzz.sh runs them: make fuzz for FUZZ_TIME seconds
# each (default 300), or for FUZZ_RUNS new inputs each when that is set;
# make test a short pass (tests/all.sh).
FUZZ_B    := build/fuzz
FUZZ_TIME ?= 300
fuzz-build:
	$(Q)$(MAKE) --no-print-directory CC=clang B=$(FUZZ_B) \
		SANITIZER=fuzzer-no-link,address,undefined \
		$(FUZZ_B)/fuzz/frame_fuzz $(FUZZ_B)/fuzz/live_fuzz \
		$(FUZZ_B)/fuzz/make_seeds

fuzz: test-deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)tests/fuzz.sh $(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS),$(FUZZ_TIME))

$(B)/fuzz/%_fuzz: $(B)/obj/fuzz/%_fuzz.o $(SVC_OBJ) $(HOST_OBJ) \
		$(B)/libovio.a $(NNG_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS) -luring

$(B)/fuzz/frame_fuzz: $(B)/obj/fuzz/frame_reply.o

$(B)/fuzz/make_seeds: $(B)/obj/fuzz/make_seeds.o $(B)/libovio.a $(NNG_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# deps: what building and running needs; test-deps: and what the tests,
# the fuzzers and the benchmark need (install/deps.sh says which).
deps:
	$(Q)install/deps.sh run
	$(Q)install/nng.sh $(NNG_DIR)

test-deps:
	$(Q)install/deps.sh test
	$(Q)install/nng.sh $(NNG_DIR)
	$(Q)install/fio-src.sh $(FIO_SRC_DIR)

# Every test: Linux suites on both backends, the same under ASan+UBSan, e2e
# and a small stress run under ThreadSanitizer (tests/tsan.sh), and the
# Windows build under Wine, a short pass of the fuzzers, a
# 1-second-a-run pass of the benchmark and fio through the fio engine
# (tests/all.sh; it ends with the total).  Every
# build here has warnings as errors, as in CI: WERROR=1 goes to each
# sub-make, and through the environment to the Windows build that
# tests/win/run.sh makes.  (Objects already built are not rebuilt for a
# flag change: make clean first to check a tree built without it.)
test: test-deps
	$(Q)$(MAKE) --no-print-directory WERROR=1 all
	$(Q)$(MAKE) --no-print-directory WERROR=1 fio-engine
	$(Q)$(MAKE) --no-print-directory WERROR=1 SANITIZER=address,undefined all
	$(Q)$(MAKE) --no-print-directory WERROR=1 SANITIZER=thread all
	$(Q)$(MAKE) --no-print-directory WERROR=1 fuzz-build
	$(Q)WERROR=1 tests/all.sh

# The same tests under AddressSanitizer and UBSan (part of make test).
check-san:
	$(Q)$(MAKE) --no-print-directory SANITIZER=address,undefined all
	$(Q)OVIO_TIME_SCALE=4 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		tests/run.sh build/san

# The benchmark: fio, raw nng and ovio over ipc and tcp on both backends,
# in one run (BENCH_TIME, BENCH_TRANSPORTS, ... in tests/bench/run.sh).
# make test runs a short pass of it (tests/all.sh, "bench (smoke)").
bench: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/run.sh $(B)

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

# make install puts the unit where systemd looks for local units
# ($(PREFIX)/lib/systemd/system) and the config in $(SYSCONFDIR)/ovio,
# keeping a config that is already there.  make uninstall removes what
# install put, except that config.
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
OVIO_VERSION := $(shell sed -n 's/^\#define OVIO_VERSION "\(.*\)"/\1/p' lib/ovio.h)
subst_dirs  = sed -e 's\#@PREFIX@\#$(PREFIX)\#g' -e 's\#@SYSCONFDIR@\#$(SYSCONFDIR)\#g'

install: all
	@if [ -f $(DESTDIR)/etc/systemd/system/oviod.service ]; then \
		echo "warning: $(DESTDIR)/etc/systemd/system/oviod.service (an older install's) overrides $(UNITDIR)/oviod.service: remove it"; \
	fi
	$(Q)docs/man/build.sh $(B) $(B)/man $(PREFIX)/share/doc/ovio
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/doc/ovio \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/ovio
	install -m 755 $(B)/oviod $(B)/ovio $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/libovio-install.a $(DESTDIR)$(PREFIX)/lib/libovio.a
	install -m 755 $(B)/libovio.so $(DESTDIR)$(PREFIX)/lib/libovio.so.0
	ln -sf libovio.so.0 $(DESTDIR)$(PREFIX)/lib/libovio.so
	install -m 644 lib/ovio.h lib/ovio_err.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 README.md docs/reference.md \
		$(DESTDIR)$(PREFIX)/share/doc/ovio/
	install -d $(DESTDIR)$(PREFIX)/share/doc/ovio/examples \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 examples/hello.c $(DESTDIR)$(PREFIX)/share/doc/ovio/examples/
	$(subst_dirs) -e 's#@VERSION@#$(OVIO_VERSION)#g' install/libovio.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/libovio.pc
	for p in $(MAN_PAGES); do \
		install -d $(DESTDIR)$(PREFIX)/share/man/man$${p##*.}; \
		install -m 644 $(B)/man/$$p $(DESTDIR)$(PREFIX)/share/man/man$${p##*.}/; \
	done
	$(subst_dirs) install/oviod.service > $(DESTDIR)$(UNITDIR)/oviod.service
	install -d $(DESTDIR)$(SYSUSERSDIR)
	$(subst_dirs) install/ovio.sysusers > $(DESTDIR)$(SYSUSERSDIR)/ovio.conf
	@if [ -n "$(DESTDIR)" ] || [ "$$(id -u)" != 0 ]; then \
		echo "the service's user: run systemd-sysusers $(SYSUSERSDIR)/ovio.conf on the target, as root"; \
	elif command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/ovio.conf; \
	else \
		getent passwd ovio >/dev/null || useradd --system --user-group \
			--home-dir /var/lib/ovio --no-create-home \
			--shell /usr/sbin/nologin ovio; \
	fi
	$(subst_dirs) install/oviod.conf > $(DESTDIR)$(PREFIX)/share/doc/ovio/oviod.conf
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/ovio/oviod.conf ]; then \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/ovio/oviod.conf (the new default: $(PREFIX)/share/doc/ovio/oviod.conf)"; \
	else \
		install -m 644 $(DESTDIR)$(PREFIX)/share/doc/ovio/oviod.conf \
			$(DESTDIR)$(SYSCONFDIR)/ovio/oviod.conf; \
	fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/oviod $(DESTDIR)$(PREFIX)/bin/ovio \
		$(DESTDIR)$(PREFIX)/lib/libovio.a $(DESTDIR)$(PREFIX)/lib/libovio.so \
		$(DESTDIR)$(PREFIX)/lib/libovio.so.0 \
		$(DESTDIR)$(PREFIX)/include/ovio.h $(DESTDIR)$(PREFIX)/include/ovio_err.h \
		$(DESTDIR)$(UNITDIR)/oviod.service \
		$(DESTDIR)$(SYSUSERSDIR)/ovio.conf \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/libovio.pc
	for p in $(MAN_PAGES); do \
		rm -f $(DESTDIR)$(PREFIX)/share/man/man$${p##*.}/$$p; \
	done
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/ovio
	@if grep -qs 'ovio - overlapped file I/O as a service' \
		$(DESTDIR)/etc/systemd/system/oviod.service; then \
		rm -f $(DESTDIR)/etc/systemd/system/oviod.service; \
	fi
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/ovio/oviod.conf, if any, and the user ovio"

clean:
	rm -rf build run

# ---------------------------------------------------------------------------
# Windows (issue 4): cross-compiled with mingw-w64 into build/win, tested
# under Wine.  Its own variables and rules; nothing above depends on them.
#
#   make windows     install/win-deps.sh, then build/win/oviod.exe,
#                    build/win/ovio.exe and build/win/tests/*.exe
#   make test-win    make windows, then tests/win/run.sh (Wine)
# ---------------------------------------------------------------------------
WIN_CC     ?= x86_64-w64-mingw32-gcc
WIN_AR     ?= x86_64-w64-mingw32-ar
WIN_WINDMC ?= x86_64-w64-mingw32-windmc
WIN_WINDRES ?= x86_64-w64-mingw32-windres
WIN_B      := build/win
WIN_DEPS   := build/win-deps
WIN_CFLAGS := -std=gnu11 -O2 -g $(WARN) -MMD -MP -Ilib -Iservice/engine -Iservice/port -Iservice/os \
	-Iservice/os/windows \
	-I$(WIN_B)/gen -I$(WIN_DEPS)/include -DNNG_STATIC_LIB \
	-D__USE_MINGW_ANSI_STDIO=1 -D_WIN32_WINNT=0x0601 -DWINVER=0x0601
# Static: no libwinpthread / libgcc DLLs at run time (see install/win-deps.sh).
WIN_LIBS   := -L$(WIN_DEPS)/lib -lnng -lmbedtls -lmbedx509 -lmbedcrypto \
	-lprotobuf-c -lws2_32 -ladvapi32 \
	-lshell32 -lntdll -static -pthread
WIN_CHECK_LIBS := -L$(WIN_DEPS)/lib -lcheck

WIN_GEN      := $(WIN_B)/gen/ovio.pb-c.c $(WIN_B)/gen/ovio.pb-c.h \
	$(WIN_B)/gen/oviod_msg.h
WIN_LIB_SRC  := lib/abi.c lib/error.c lib/error_windows.c lib/wire.c \
	lib/client.c lib/blocking.c lib/number.c lib/platform_windows.c lib/tls.c \
	lib/admin.c lib/metrics.c \
	$(WIN_B)/gen/ovio.pb-c.c
WIN_SVC_SRC  := $(ENGINE_SRC) service/os/windows/fs.c \
	service/os/windows/fs_ns.c service/os/windows/fs_temp.c \
	service/port/list_windows.c service/port/iocp.c
WIN_HOST_SRC := service/os/windows/host.c
WIN_MAIN_SRC := service/os/windows/main.c
WIN_CLI_SRC  := client/ovio.c client/admin.c client/progress.c client/remote.c \
	client/service_windows.c \
	client/localfile.c client/localfile_windows.c client/bench.c \
	client/bench_load.c
WIN_TESTS    := backend_win_test host_win_test smoke

win_obj = $(patsubst %.c,$(WIN_B)/obj/%.o,$(patsubst $(WIN_B)/%,%,$(1)))

WIN_LIB_OBJ  := $(call win_obj,$(WIN_LIB_SRC))
WIN_SVC_OBJ  := $(call win_obj,$(WIN_SVC_SRC))
WIN_HOST_OBJ := $(call win_obj,$(WIN_HOST_SRC))
WIN_MAIN_OBJ := $(call win_obj,$(WIN_MAIN_SRC))
WIN_CLI_OBJ  := $(call win_obj,$(WIN_CLI_SRC))
WIN_TEST_BIN := $(addprefix $(WIN_B)/tests/,$(addsuffix .exe,$(WIN_TESTS)))

.PHONY: windows windows-build test-win
windows:
	$(Q)install/win-deps.sh $(WIN_DEPS)
	$(Q)$(MAKE) --no-print-directory windows-build

windows-build: $(WIN_B)/oviod.exe $(WIN_B)/ovio.exe $(WIN_B)/libovio.a \
	$(WIN_TEST_BIN)

test-win: windows
	$(Q)tests/win/run.sh

$(WIN_B)/gen/ovio.pb-c.c $(WIN_B)/gen/ovio.pb-c.h: proto/ovio.proto
	@mkdir -p $(WIN_B)/gen
	@echo "  PROTOC  $< (win)"
	$(Q)$(PROTOC_C) --c_out=$(WIN_B)/gen -Iproto $<

# The Event Log's message table (one message per severity), in oviod.exe.
$(WIN_B)/gen/oviod_msg.h $(WIN_B)/gen/oviod_msg.rc &: service/os/windows/oviod_msg.mc
	@mkdir -p $(WIN_B)/gen
	@echo "  WINDMC  $<"
	$(Q)$(WIN_WINDMC) -h $(WIN_B)/gen -r $(WIN_B)/gen $<

$(WIN_B)/obj/oviod_msg.o: $(WIN_B)/gen/oviod_msg.rc
	@mkdir -p $(dir $@)
	@echo "  WINRES  $<"
	$(Q)cd $(WIN_B)/gen && $(WIN_WINDRES) oviod_msg.rc -o $(CURDIR)/$@

$(WIN_B)/obj/%.o: %.c | $(WIN_GEN)
	@mkdir -p $(dir $@)
	@echo "  WINCC   $<"
	$(Q)$(WIN_CC) $(WIN_CFLAGS) -c -o $@ $<

$(WIN_B)/obj/gen/%.o: $(WIN_B)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  WINCC   $<"
	$(Q)$(WIN_CC) $(WIN_CFLAGS) -c -o $@ $<

$(WIN_B)/libovio.a: $(WIN_LIB_OBJ)
	@echo "  WINAR   $@"
	$(Q)rm -f $@ && $(WIN_AR) rcs $@ $^

$(WIN_B)/oviod.exe: $(WIN_MAIN_OBJ) $(WIN_SVC_OBJ) $(WIN_HOST_OBJ) \
		$(WIN_B)/obj/oviod_msg.o $(WIN_B)/libovio.a
	@echo "  WINLD   $@"
	$(Q)$(WIN_CC) -o $@ $^ $(WIN_LIBS)

$(WIN_B)/ovio.exe: $(WIN_CLI_OBJ) $(WIN_B)/libovio.a
	@echo "  WINLD   $@"
	$(Q)$(WIN_CC) -o $@ $^ $(WIN_LIBS)

# Test programs link the engine and host without os/windows/main.o.
$(WIN_B)/tests/%.exe: $(WIN_B)/obj/tests/win/%.o $(WIN_SVC_OBJ) \
		$(WIN_HOST_OBJ) $(WIN_B)/libovio.a
	@mkdir -p $(dir $@)
	@echo "  WINLD   $@"
	$(Q)$(WIN_CC) -o $@ $^ $(WIN_CHECK_LIBS) $(WIN_LIBS)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(WIN_B)/obj -name '*.d' 2>/dev/null)
.SECONDARY:
