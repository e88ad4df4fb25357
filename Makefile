# skyctl: the command-line client, and skyctl-sandbox, the stand-in node.
# make · make test · make test SANITIZE=1 · make test-matrix · make bench · make install · make clean

CC ?= cc
PYTHON ?= /usr/bin/python3
# libmicrohttpd: its header only; src/httpd.c loads the library when
# `metrics --listen` needs it (linking it costs every run 1 ms of start-up)
PKGS := lua5.4 libedit libmicrohttpd
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Isrc -Itools $(shell pkg-config --cflags $(PKGS))
LUA_LIBS := $(shell pkg-config --libs lua5.4)
# skyctl links Lua and libedit (and what libedit needs) from Debian's static
# archives: loading them as shared libraries cost each run 1.5 ms of ~6
SKYCTL_LIBS := -Wl,-Bstatic $(shell pkg-config --libs lua5.4 libedit) -ltinfo -lbsd -lmd -Wl,-Bdynamic

ifeq ($(SANITIZE),1)
BUILD ?= build/san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
endif

SKYCTL_SRC := $(wildcard cli/*.c) $(wildcard src/*.c)
SANDBOX_SRC := $(wildcard sandbox/*.c)
SKYCTL_LUA := $(sort $(wildcard lua/*.lua)) docs/hotfix.md
SANDBOX_LUA := $(sort $(wildcard sandbox/lua/*.lua))

SKYCTL_OBJ := $(SKYCTL_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/skyctl_lua.o
SANDBOX_OBJ := $(SANDBOX_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/sandbox_lua.o

all: $(BUILD)/skyctl $(BUILD)/skyctl-sandbox

$(BUILD)/skyctl: $(SKYCTL_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(SKYCTL_LIBS) -lm

$(BUILD)/skyctl-sandbox: $(SANDBOX_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LUA_LIBS) -lpthread -lm

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/embed: tools/embed.c tools/embed.h src/sha256.c src/sha256.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -Wall -Wextra -Isrc -o $@ tools/embed.c src/sha256.c

$(BUILD)/gen/skyctl_lua.c: $(BUILD)/embed $(SKYCTL_LUA)
	@mkdir -p $(dir $@)
	$(BUILD)/embed skyctl_lua $@ $(SKYCTL_LUA)

$(BUILD)/gen/sandbox_lua.c: $(BUILD)/embed $(SANDBOX_LUA)
	@mkdir -p $(dir $@)
	$(BUILD)/embed sandbox_lua $@ $(SANDBOX_LUA)

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -c -o $@ $<

test: all
	SKYCTL_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests $(PYTEST_ARGS)

# The suite against every backend in one go: the sandbox, the sandbox with
# skynet 1.4's console (SKYCTL_SANDBOX_CONSOLE=1.4) and with 1.5-1.7's
# (SKYCTL_SANDBOX_CONSOLE=1.7), then each skynet of
# SKYNET_ROOTS="/a /b" (checkouts built outside this repository; only the
# checks that start a real node run there).  MATRIX=tests/test_x.py narrows
# it.  Every backend runs; the status says whether all passed.
MATRIX ?= tests
test-matrix: all
	@st=0; b=$(abspath $(BUILD)); \
	echo "== sandbox"; SKYCTL_BUILD=$$b $(PYTHON) -m pytest -q $(MATRIX) $(PYTEST_ARGS) || st=1; \
	for v in 1.4 1.7; do echo "== sandbox, console $$v"; SKYCTL_SANDBOX_CONSOLE=$$v \
		SKYCTL_BUILD=$$b $(PYTHON) -m pytest -q $(MATRIX) $(PYTEST_ARGS) || st=1; done; \
	for root in $(SKYNET_ROOTS); do echo "== $$root"; SKYNET_ROOT=$$root SKYCTL_BUILD=$$b \
		$(PYTHON) -m pytest -q -k skynet $(MATRIX) $(PYTEST_ARGS) || st=1; done; exit $$st

bench: all
	SKYCTL_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/run.py

clean:
	rm -rf build

.PHONY: all test test-matrix bench clean
-include $(SKYCTL_OBJ:.o=.d) $(SANDBOX_OBJ:.o=.d)

# make install PREFIX=/usr/local DESTDIR=...: the binaries, the man page, the
# bash, zsh and fish completions where each looks for them, and the sandbox's
# sample services (skyctl-sandbox --demo finds them beside bin/)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SERVICESDIR ?= $(PREFIX)/share/skyctl/services
SERVICES := $(wildcard sandbox/services/*.lua)
INSTALL ?= install

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(SERVICESDIR)
	$(INSTALL) -m 755 $(BUILD)/skyctl $(BUILD)/skyctl-sandbox $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 man/skyctl.1 $(DESTDIR)$(MANDIR)/man1/skyctl.1
	$(INSTALL) -m 644 completions/skyctl.bash $(DESTDIR)$(BASHCOMPDIR)/skyctl
	$(INSTALL) -m 644 completions/_skyctl $(DESTDIR)$(ZSHCOMPDIR)/_skyctl
	$(INSTALL) -m 644 completions/skyctl.fish $(DESTDIR)$(FISHCOMPDIR)/skyctl.fish
	$(INSTALL) -m 644 $(SERVICES) $(DESTDIR)$(SERVICESDIR)/

# removes what install put there (the standard directories stay; skyctl's
# own share/skyctl goes if nothing else is in it)
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/skyctl $(DESTDIR)$(BINDIR)/skyctl-sandbox \
		$(DESTDIR)$(MANDIR)/man1/skyctl.1 $(DESTDIR)$(BASHCOMPDIR)/skyctl \
		$(DESTDIR)$(ZSHCOMPDIR)/_skyctl $(DESTDIR)$(FISHCOMPDIR)/skyctl.fish \
		$(addprefix $(DESTDIR)$(SERVICESDIR)/,$(notdir $(SERVICES)))
	-rmdir $(DESTDIR)$(SERVICESDIR) $(DESTDIR)$(PREFIX)/share/skyctl 2>/dev/null

.PHONY: install uninstall

# libFuzzer harnesses (fuzz/fuzz_*.c, Debian's clang) over the library in
# src/, each run FUZZ_SECONDS on its seeds (fuzz/seeds/NAME) and the inputs
# that once crashed it (fuzz/regress/NAME); new finds go to build/fuzz/
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_LIB := $(patsubst %.c,build/fuzz/obj/%.o,$(wildcard src/*.c)) build/fuzz/obj/gen/skyctl_lua.o

build/fuzz/obj/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -std=c11 -D_GNU_SOURCE -Isrc -Itools \
		$(shell pkg-config --cflags $(PKGS)) -MMD -MP -c -o $@ $<

build/fuzz/obj/gen/skyctl_lua.o: build/gen/skyctl_lua.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Itools -c -o $@ $<

build/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -std=c11 -D_GNU_SOURCE -Isrc \
		$(shell pkg-config --cflags $(PKGS)) -o $@ $^ \
		$(shell pkg-config --libs lua5.4 libedit) -lm

fuzz: $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
	@for n in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus/$$n build/fuzz/finds/$$n && \
		echo "fuzz: $$n, $(FUZZ_SECONDS) s" && \
		build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
			-rss_limit_mb=1024 -print_final_stats=0 \
			-artifact_prefix=build/fuzz/finds/$$n/ build/fuzz/corpus/$$n \
			$$(ls -d fuzz/seeds/$$n fuzz/regress/$$n 2>/dev/null) 2>build/fuzz/$$n.log \
			|| { tail -40 build/fuzz/$$n.log; exit 1; }; \
	done
.PHONY: fuzz
.SECONDARY: $(FUZZ_LIB)
-include $(FUZZ_LIB:.o=.d)

# the whole suite, plain and under AddressSanitizer + UBSan, then each
# fuzzer for a few seconds (what CI runs)
check:
	$(MAKE) test
	$(MAKE) test SANITIZE=1
	$(MAKE) fuzz FUZZ_SECONDS=5
.PHONY: check

# the sandbox node with the sample services on 127.0.0.1:8000 (PORT=N:
# another port), shown answering; it keeps running until Ctrl-C
demo: all
	tools/demo $(if $(PORT),--port $(PORT))
.PHONY: demo
