# frost — build, run and test.
#
#   make            build build/frost
#   make run        build, then open frost on sample_data/
#   make test       build, then run every test (Criterion), with torchvision as the oracle
#   make install    the program, themes, manual page and completions under PREFIX (default
#                   /usr/local; DESTDIR for staging); make uninstall removes them
#   make fresh-check the README's commands run first on a bare Debian (as root; DEBIAN=bookworm|trixie)
#
# Missing Debian packages are installed first by scripts/install-deps.sh (as root), or it prints
# the exact apt-get line and stops. The entry points (make, run, test, install) do that first and
# then call make again: what make works out from the system (pkg-config's flags, libtorch's C++ ABI
# read off libc10, the ONNX schema, the headers named in build/obj's .d files) is worked out by a
# make that starts after the packages are there, not by one that planned before they were.
#
# Variables
#   TORCH_PREFIX   where libtorch lives. Default /usr (Debian's libtorch-dev). For a CUDA build, point
#                  it at the torch package of a PyTorch installation, e.g.
#                  make TORCH_PREFIX=$$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
#                  (its include/ and lib/ are used, and libtorch_cuda is linked when it is there).
#   WERROR=1       warnings are errors (CI sets it).
#   BUILD          output folder (default build).
#   JOBS           parallel build jobs for run and test (default: the cores).
#   TEST_SET=fresh make test runs the subset make fresh-check runs (below), not every test.

SHELL := /bin/bash
CC ?= cc
CXX ?= g++
PYTHON_ORACLE ?= /usr/bin/python3
# SANITIZE=address,undefined or SANITIZE=thread builds everything (C and C++; libtorch itself is not
# instrumented) with those sanitizers, in a folder of its own.
SANITIZE ?=
BUILD ?= $(if $(SANITIZE),build-$(subst $(comma),-,$(SANITIZE)),build)
comma := ,
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
TORCH_PREFIX ?= /usr

# ---------------------------------------------------------------------------------------------
# libtorch: headers and libraries from TORCH_PREFIX. Debian keeps the libraries in the multiarch
# folder; a PyTorch wheel keeps them in lib/. The C++ ABI flag must match the one libtorch was
# built with (PyTorch wheels before 2.x use the old ABI): read it off libc10's symbols.

MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
TORCH_LIBDIR ?= $(if $(wildcard $(TORCH_PREFIX)/lib/libtorch.so),$(TORCH_PREFIX)/lib,$(TORCH_PREFIX)/lib/$(MULTIARCH))
ifeq ($(TORCH_PREFIX),/usr)
TORCH_INC := -isystem /usr/include/torch/csrc/api/include
else
TORCH_INC := -isystem $(TORCH_PREFIX)/include -isystem $(TORCH_PREFIX)/include/torch/csrc/api/include
endif
TORCH_CXX11_ABI ?= $(shell nm -D --defined-only $(TORCH_LIBDIR)/libc10.so 2>/dev/null | grep -q __cxx11 && echo 1 || echo 0)
TORCH_LIBS = -L$(TORCH_LIBDIR) -Wl,-rpath,$(TORCH_LIBDIR) -Wl,--no-as-needed \
             $(if $(wildcard $(TORCH_LIBDIR)/libtorch_cuda.so),-ltorch_cuda -lc10_cuda) \
             -ltorch -ltorch_cpu -lc10 -Wl,--as-needed

# Everything else through pkg-config. These are recursive (=) on purpose: they are expanded when a
# recipe runs, after the install-deps step has put the .pc files in place.
PKGS := jansson libturbojpeg libpng libcurl libcrypto libzip libprotobuf-c sqlite3
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
# curses only for tui/ (its cflags set _XOPEN_SOURCE, which core/ must not get)
TUI_CFLAGS = $(shell pkg-config --cflags ncursesw)
TUI_LIBS = $(shell pkg-config --libs ncursesw)
TEST_CFLAGS = $(shell pkg-config --cflags criterion)
TEST_LIBS = $(shell pkg-config --libs criterion)

WARN := -Wall -Wextra -Wshadow $(if $(WERROR),-Werror)
# $(call c_flags,INCLUDES): each part of the tree names its own include paths (below), which is how the
# layers are kept; ours come before the packages' so that none of theirs can stand in for one of ours
# NDEBUG is never defined, here or by a SANITIZE build: the invariants written as assert() (the loader's
# ring, the jobs, the list view, the shim's table) are checked in every build, the tests' included
# (tests/core/test_job.c fails when they are off)
c_flags = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g $(SAN_FLAGS) $(WARN) -MMD -MP \
          $(1) $(PKG_CFLAGS) $(CFLAGS)
# the shim's debug information: line tables (what backtraces and the sanitizers' reports use); full
# -g (local variables too) takes a third longer to compile over libtorch's templates: CXX_DEBUG=-g
CXX_DEBUG ?= -g1
CXXFLAGS_ALL = -std=c++17 -O2 $(CXX_DEBUG) $(SAN_FLAGS) $(WARN) -MMD -MP -fPIC -D_GLIBCXX_USE_CXX11_ABI=$(TORCH_CXX11_ABI) \
               -Ishim $(TORCH_INC) $(CXXFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -ldl -lpthread -lm $(LDLIBS)

# ---------------------------------------------------------------------------------------------
# sources

# core/ is in rooms, one folder each (core/README.md); a new room's sources are picked up here
CORE_SRC := $(wildcard core/*/*.c)
SHIM_SRC := $(wildcard shim/*.cpp)
TUI_SRC := $(wildcard tui/*.c)
CLI_SRC := $(wildcard cli/*.c)
# tests/ mirrors the source: core/, cli/, tui/, shim/, and support/ (what the tests share)
TEST_SRC := $(wildcard tests/core/*.c tests/cli/*.c tests/tui/*.c tests/shim/*.c tests/support/*.c)

# generated: ONNX's schema as C (protoc-c from Debian's libonnx-dev onnx.proto), and the PyTorch script
# `frost export --pytorch` writes (core/export/export_pytorch_train.py) as a C string
GEN := $(BUILD)/gen
ONNX_PROTO ?= /usr/include/onnx/onnx.proto
GEN_HDR := $(GEN)/onnx.pb-c.h
GEN_OBJ := $(BUILD)/obj/gen/onnx.pb-c.o $(BUILD)/obj/gen/export_pytorch_train.o
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o) $(GEN_OBJ)
SHIM_OBJ := $(SHIM_SRC:%.cpp=$(BUILD)/obj/%.o)
# The shim and libtorch are one shared library, loaded on the first ft_* call (shim/torch_load.c says
# why: linking libtorch cost every process 0.8 CPU-s before main); programs link the loader, and find
# the library beside them or in PREFIX/lib/frost.
SHIM_LIB := $(BUILD)/libfrost_torch.so
SHIM_LOAD_OBJ := $(BUILD)/obj/shim/torch_load.o
TUI_OBJ := $(TUI_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/main.o
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
# the front ends' pure parts, unit-tested in the test binary beside core/: the option parser (and the
# one line its mistakes get), the interface's list, key table and Train form (keys.c draws with
# curses: the test binary links ncursesw, and never starts it)
UI_UNIT_OBJ := $(BUILD)/obj/cli/options.o $(BUILD)/obj/cli/output.o $(BUILD)/obj/tui/list_view.o \
               $(BUILD)/obj/tui/keys.o $(BUILD)/obj/tui/style.o $(BUILD)/obj/tui/train_form.o

# Which room of core/ may include which (core/README.md): the arrows run downwards, and a room's
# objects are compiled with the include paths of itself and the rooms below it only, so that an
# include running back up (or sideways) does not compile. The shim's header (libtorch behind it) for
# the rooms that call it; the generated ONNX schema for export/. cli/, tui/, the tests and main.c
# see every room.
CORE_ROOMS := base data model settings train interpret export history teach jobs
ROOM_USES_base :=
ROOM_USES_data := base
ROOM_USES_model := base
ROOM_USES_settings := base
ROOM_USES_train := base data model settings
ROOM_USES_interpret := base data model settings train
ROOM_USES_export := base data model settings train
ROOM_USES_history := base data model settings train
ROOM_USES_teach := base data model settings train
ROOM_USES_jobs := base data model settings train interpret export history teach
ROOM_SHIM := model settings train interpret export history teach jobs
ROOM_GEN := export
room_inc = $(addprefix -Icore/,$(ROOM_USES_$(1)) $(1)) $(if $(filter $(1),$(ROOM_SHIM)),-Ishim) \
           $(if $(filter $(1),$(ROOM_GEN)),-I$(GEN))
CORE_INC = $(addprefix -Icore/,$(CORE_ROOMS)) -Ishim -I$(GEN)
# a sanitized build's programs end with each sanitizer's own exit status (tests/sanitizers/exit_status.c);
# its test program under ThreadSanitizer also gets what lets Criterion start there (criterion_tsan.c)
SAN_OBJ := $(if $(SANITIZE),$(BUILD)/obj/tests/sanitizers/exit_status.o)
SAN_TEST_OBJ := $(SAN_OBJ) $(if $(findstring thread,$(SANITIZE)),$(BUILD)/obj/tests/sanitizers/criterion_tsan.o)

DEPS_BUILD := $(BUILD)/.deps-build
DEPS_TEST := $(BUILD)/.deps-test
ORACLE_SRC := $(wildcard tests/oracle/*.py)
# (a sanitized build shares the plain build's oracle: the references do not change)
ORACLE_DIR ?= $(if $(SANITIZE),build,$(BUILD))/oracle
ORACLE := $(ORACLE_SRC:tests/oracle/%.py=$(ORACLE_DIR)/%.done)
# ONNX Runtime for the export tests: npm's onnxruntime-node, which ships its own native library
# (install scripts off: they only fetch GPU extras). Shared by the sanitized builds.
ORT_VERSION ?= 1.30.0
ORT_DIR ?= $(if $(SANITIZE),build,$(BUILD))/npm
ORT := $(ORT_DIR)/node_modules/onnxruntime-node/package.json

.PHONY: all run test deps clean fuzz leaks stress tsan format format-check man completions install uninstall \
        fresh-check po-update
# (`make` alone builds the program: the first rule below is the packages' step, not the goal)
.DEFAULT_GOAL := all

# (the test packages include the build's: one apt-get run on a bare system, both steps done)
$(DEPS_BUILD): scripts/install-deps.sh
	@mkdir -p $(@D)
	scripts/install-deps.sh build
	@touch $@

$(DEPS_TEST): scripts/install-deps.sh
	@mkdir -p $(@D)
	scripts/install-deps.sh test
	@touch $@ $(DEPS_BUILD)

deps: $(DEPS_BUILD)

# (what is left for this rule: the shim's loader, which sees the shim only)
$(BUILD)/obj/%.o: %.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(call c_flags,-Ishim) -c $< -o $@

# a room of core/: the stem's first folder names it
$(BUILD)/obj/core/%.o: core/%.c | $(DEPS_BUILD) $(GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(call c_flags,$(call room_inc,$(firstword $(subst /, ,$*)))) -c $< -o $@

# (the schema is a prerequisite only once it is there: before install-deps has run, libonnx-dev's
# file does not exist yet, and make would stop for want of a rule to make it)
$(GEN)/onnx.pb-c.c $(GEN_HDR) &: $(wildcard $(ONNX_PROTO)) | $(DEPS_BUILD)
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

$(GEN)/export_pytorch_train.c: core/export/export_pytorch_train.py scripts/embed-text.sh
	@mkdir -p $(@D)
	scripts/embed-text.sh export_pytorch_train_py $< > $@.tmp && mv $@.tmp $@

# generated code is not ours to warn about
$(BUILD)/obj/gen/%.o: $(GEN)/%.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(filter-out -Wextra -Wshadow,$(call c_flags,-I$(GEN))) -c $< -o $@

$(BUILD)/obj/%.o: %.cpp | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS_ALL) -c $< -o $@

$(BUILD)/obj/tui/%.o: tui/%.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(call c_flags,$(CORE_INC)) $(TUI_CFLAGS) -c $< -o $@

$(BUILD)/obj/cli/%.o: cli/%.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(call c_flags,$(CORE_INC) -Icli) -c $< -o $@

# the entry point: the one file that sees both front ends
$(MAIN_OBJ): main.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(call c_flags,$(CORE_INC) -Icli -Itui) -c $< -o $@

# (tests/cli/ and tests/tui/ also see their front end's headers, for its unit tests)
$(BUILD)/obj/tests/%.o: tests/%.c | $(DEPS_TEST)
	@mkdir -p $(@D)
	$(CC) $(call c_flags,$(CORE_INC) $(addprefix -I,$(filter cli tui,$(firstword $(subst /, ,$*))))) $(TEST_CFLAGS) \
	    -Itests/support -c $< -o $@

# -Bsymbolic: the shim's calls to its own ft_* functions stay inside it, never a program's loader
$(SHIM_LIB): $(SHIM_OBJ)
	$(CXX) $(SAN_FLAGS) -shared -Wl,-soname,libfrost_torch.so -Wl,-Bsymbolic -o $@ $^ $(TORCH_LIBS) -lpthread -lm

$(BUILD)/frost: $(MAIN_OBJ) $(CLI_OBJ) $(TUI_OBJ) $(CORE_OBJ) $(SHIM_LOAD_OBJ) $(SAN_OBJ) $(SHIM_LIB)
	$(CXX) $(SAN_FLAGS) -o $@ $(filter-out $(SHIM_LIB),$^) $(TUI_LIBS) $(LDLIBS_ALL)

$(BUILD)/frost_tests: $(TEST_OBJ) $(UI_UNIT_OBJ) $(CORE_OBJ) $(SHIM_LOAD_OBJ) $(SAN_TEST_OBJ) $(SHIM_LIB)
	$(CXX) $(SAN_FLAGS) -o $@ $(filter-out $(SHIM_LIB),$^) $(TEST_LIBS) $(TUI_LIBS) $(LDLIBS_ALL)

# Translations (GNU gettext): po/LANG.po becomes $(BUILD)/locale/LANG/LC_MESSAGES/frost.mo, where the
# program in $(BUILD) finds it (core/base/i18n.c). The template, $(BUILD)/po/frost.pot, is made from
# every source's marked texts (_ and N_) and error formats (cli_fail's, errmsg_set's and the
# wrappers' over errmsg_vset, translated where they format); a catalogue that misses one of them, or has it fuzzy, fails
# the build (msgcmp), and so does a translation whose printf arguments differ from the English text's
# (msgfmt --check). make po-update merges new texts into the catalogues, for translating.
PO_DIR ?= po
PO_FILES := $(wildcard $(PO_DIR)/*.po)
PO_LANGS := $(basename $(notdir $(PO_FILES)))
POT := $(BUILD)/po/frost.pot
MO_FILES := $(PO_LANGS:%=$(BUILD)/locale/%/LC_MESSAGES/frost.mo)
PO_SOURCES := main.c $(sort $(CLI_SRC) $(TUI_SRC) $(CORE_SRC))
$(POT): $(PO_SOURCES) | $(DEPS_BUILD)
	@mkdir -p $(@D)
	xgettext --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ --add-comments=TRANSLATORS: \
	    --keyword=cli_fail:2 --keyword=errmsg_set:3 --flag=cli_fail:2:c-format --flag=errmsg_set:3:c-format \
	    --keyword=trainer_fail:3 --keyword=trainer_post_text:3 --keyword=lesson_fail:5 --keyword=onnx_fail:2 \
	    --flag=trainer_fail:3:c-format --flag=trainer_post_text:3:c-format --flag=lesson_fail:5:c-format \
	    --flag=onnx_fail:2:c-format \
	    --package-name=frost --msgid-bugs-address="the project's issues" --sort-by-file -o $@.tmp $(PO_SOURCES)
	@touch $@.tmp && mv $@.tmp $@
$(BUILD)/locale/%/LC_MESSAGES/frost.mo: $(PO_DIR)/%.po $(POT)
	@mkdir -p $(@D)
	@msgcmp $< $(POT) 2>/dev/null || { \
	    echo "$<: these texts are not translated, or are fuzzy (make po-update merges new texts into it):" >&2; \
	    { msgattrib --untranslated --no-obsolete $<; msgattrib --only-fuzzy --no-obsolete $<; \
	      msgcomm --less-than=2 $(POT) $<; } 2>/dev/null | grep '^msgid "..' | sort -u >&2; exit 1; }
	msgfmt --check --statistics -o $@.tmp $< && mv $@.tmp $@
$(BUILD)/frost: | $(MO_FILES)
# The tests see the interface in Chinese, and numbers in a language that writes a decimal comma, in
# locales of their own (the system may have none generated): localedef from Debian's locales
# package, into build/ (LOCPATH names it). The translated manual pages are written in them too, so
# the locales package is a build dependency.
TEST_LOCALES := $(if $(SANITIZE),build,$(BUILD))/locales
TEST_LOCALE_DIRS := $(TEST_LOCALES)/zh_CN.UTF-8 $(TEST_LOCALES)/de_DE.UTF-8
$(TEST_LOCALES)/%.UTF-8: | $(DEPS_BUILD)
	@mkdir -p $(@D)
	rm -rf $@.tmp && localedef -i $* -f UTF-8 $@.tmp && rm -rf $@ && mv $@.tmp $@
po-update: $(POT)
	for po in $(PO_FILES); do msgmerge --quiet --update --backup=none --no-fuzzy-matching $$po $(POT); done

# the tests' gate on frost's file opens (tests/preload/gate_preload.c), preloaded into frost by the
# interface's tests that hold a background job; never sanitized (it only waits, then calls libc)
GATE_LIB := $(BUILD)/gate_preload.so
$(GATE_LIB): tests/preload/gate_preload.c | $(DEPS_BUILD)
	$(CC) -std=c11 -O2 $(WARN) -shared -fPIC -o $@ $< -ldl
$(BUILD)/frost_tests: | $(GATE_LIB)

$(BUILD)/obj/tests/sanitizers/%.o: tests/sanitizers/%.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(call c_flags,) -c $< -o $@

# What torchvision and PIL themselves print and compute, for the fidelity tests: each script in
# tests/oracle/ writes into $(ORACLE_DIR)/ (the tests read it through $$FROST_ORACLE).
# npm trusts only the certificate authorities it was built with; the system's bundle too (a machine
# behind a proxy of its own, as CI's, or a fresh root trusting this machine's), when the caller named none
$(ORT): | $(DEPS_TEST)
	@mkdir -p $(ORT_DIR)
	NODE_EXTRA_CA_CERTS=$${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt} npm install --prefix $(ORT_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error onnxruntime-node@$(ORT_VERSION)
	@test -f $@

$(ORACLE_DIR)/%.done: tests/oracle/%.py | $(DEPS_TEST)
	@mkdir -p $(@D)
	$(PYTHON_ORACLE) $< $(@D)
	@touch $@

# The oracles that read ../shared's photos run again when what is there changes (the dataset arrives
# or goes): this file is rewritten only when its line does.
ORACLE_SHARED := $(ORACLE_DIR)/shared-data.state
$(ORACLE_SHARED): FORCE
	@mkdir -p $(@D)
	@state="dvc-mini: $$(find ../shared/datasets/dvc-mini -type f 2>/dev/null | wc -l) files"; \
	[ "$$(cat $@ 2>/dev/null)" = "$$state" ] || echo "$$state" > $@
$(ORACLE_DIR)/pil_decode_oracle.done $(ORACLE_DIR)/pil_transform_oracle.done: $(ORACLE_SHARED)
FORCE:

# Under sanitizers: reports stop the process (halt_on_error) so a test fails; leaks are checked on
# their own (make leaks) since Criterion's workers and libtorch's caches outlive a test; UBSan
# suppressions (tests/sanitizers/) name only what is inside libtorch. Each sanitizer ends the process
# with an exit status of its own, never frost's 1 or 2: AddressSanitizer 81, UndefinedBehaviorSanitizer
# 82, ThreadSanitizer 83, LeakSanitizer 84 (tests/sanitizers/exit_status.h; they are built into every
# sanitized program, so that a sanitized frost run by hand, by a script or in tmux has them too), and
# the tests' helpers fail a test on any report in frost's stderr whatever its status.
# Under ThreadSanitizer libtorch runs its operations on the calling thread (OMP_THREAD_LIMIT=1):
# libgomp is not instrumented, so TSan cannot see how its team hands a tensor from the thread that
# made it to the workers that fill it, and reported each one (memcpy in an OpenMP worker against the
# allocation on the trainer's thread); on the calling thread every access libtorch makes through a
# call TSan intercepts (memcpy, memset, malloc, free) is ordered by frost's own synchronisation, and
# nothing it does to frost's buffers is hidden (tests/sanitizers/tsan.supp).
SAN_ENV := $(if $(SANITIZE),ASAN_OPTIONS=halt_on_error=1:detect_leaks=0:abort_on_error=0 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(CURDIR)/tests/sanitizers/ubsan.supp \
           TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:print_suppressions=1:suppressions=$(CURDIR)/tests/sanitizers/tsan.supp \
           $(if $(findstring thread,$(SANITIZE)),OMP_THREAD_LIMIT=1))

# The entry points build in parallel (one job per core): GNU make 4.3 ignores a -j set inside a
# Makefile, so they call make again with it, after the packages are installed.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)

all: | $(DEPS_BUILD)
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/frost

run: | $(DEPS_BUILD)
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/frost
	$(BUILD)/frost sample_data

# The manual page's date is the source's, so that the same source makes the same page: the time
# SOURCE_DATE_EPOCH gives (reproducible-builds.org), else the last commit's date, else (a tarball) the
# newest source file's. A header the page is compiled with, rewritten only when the date changes.
SOURCE_DATE_H := $(GEN)/source_date.h
$(SOURCE_DATE_H): FORCE
	@mkdir -p $(@D)
	@if [ -n "$$SOURCE_DATE_EPOCH" ]; then d=$$(date -u -d "@$$SOURCE_DATE_EPOCH" +%F); \
	elif [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; then \
	    d=$$(TZ=UTC0 git log -1 --format=%cd --date=format-local:%F); \
	else d=$$(date -u -d "@$$(stat -c %Y Makefile main.c core/*/* cli/* tui/* shim/* | sort -n | tail -1)" +%F); fi; \
	line="#define FROST_SOURCE_DATE \"$$d\""; \
	[ "$$(cat $@ 2>/dev/null)" = "$$line" ] || echo "$$line" > $@
$(BUILD)/obj/cli/man.o: $(SOURCE_DATE_H)

# The manual page, from the command tables (frost help --man); man -l build/frost.1 reads it. Each
# catalogue's language has its own, $(BUILD)/LANG/frost.1, written by frost in that language's UTF-8
# locale (made with localedef into build/locales, as for the tests: a bare system has none). Not
# LANGUAGE=LANG in C.UTF-8: Debian 13's gettext takes C.UTF-8 for the C locale and ignores LANGUAGE.
MAN_L10N := $(PO_LANGS:%=$(BUILD)/%/frost.1)
man: $(BUILD)/frost.1 $(MAN_L10N)
$(BUILD)/frost.1: $(BUILD)/frost
	$(BUILD)/frost help --man > $@.tmp && mv $@.tmp $@
$(MAN_L10N): $(BUILD)/%/frost.1: $(BUILD)/frost $(BUILD)/locale/%/LC_MESSAGES/frost.mo | $(TEST_LOCALES)/%.UTF-8
	@mkdir -p $(@D)
	LOCPATH=$(TEST_LOCALES) LC_ALL=$*.UTF-8 LANGUAGE= FROST_LOCALEDIR=$(BUILD)/locale $(BUILD)/frost help --man \
	    > $@.tmp && mv $@.tmp $@

# Shell completion scripts, from the same tables (frost help --completion bash|zsh).
completions: $(BUILD)/frost.bash $(BUILD)/_frost
$(BUILD)/frost.bash: $(BUILD)/frost
	$(BUILD)/frost help --completion bash > $@.tmp && mv $@.tmp $@
$(BUILD)/_frost: $(BUILD)/frost
	$(BUILD)/frost help --completion zsh > $@.tmp && mv $@.tmp $@

# make install [PREFIX=/usr/local] [DESTDIR=staging]: the program, its themes (the installed program
# finds PREFIX/share/frost/themes beside its own folder), the manual page, the completions and the
# translations (PREFIX/share/locale/LANG/LC_MESSAGES/frost.mo) with their manual pages
# (PREFIX/share/man/LANG/man1/frost.1).
# make uninstall removes exactly those (with the same PREFIX and DESTDIR).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
# the libtorch part (libfrost_torch.so): PREFIX/lib/frost, where PREFIX/bin/frost looks for it
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(DATADIR)/man
BASH_COMPDIR ?= $(DATADIR)/bash-completion/completions
ZSH_COMPDIR ?= $(DATADIR)/zsh/site-functions
THEME_FILES := $(wildcard themes/*.theme)
LESSON_FILES := $(wildcard lessons/*.lesson) lessons/README.md
install: | $(DEPS_BUILD)
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/frost $(BUILD)/frost.1 $(MAN_L10N) $(BUILD)/frost.bash $(BUILD)/_frost
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/frost $(DESTDIR)$(DATADIR)/frost/themes \
	    $(DESTDIR)$(DATADIR)/frost/lessons $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASH_COMPDIR) $(DESTDIR)$(ZSH_COMPDIR)
	install -m 755 $(BUILD)/frost $(DESTDIR)$(BINDIR)/frost
	install -m 644 $(SHIM_LIB) $(DESTDIR)$(LIBDIR)/frost/libfrost_torch.so
	install -m 644 $(THEME_FILES) $(DESTDIR)$(DATADIR)/frost/themes/
	install -m 644 $(LESSON_FILES) $(DESTDIR)$(DATADIR)/frost/lessons/
	install -m 644 $(BUILD)/frost.1 $(DESTDIR)$(MANDIR)/man1/frost.1
	for l in $(PO_LANGS); do install -D -m 644 $(BUILD)/$$l/frost.1 $(DESTDIR)$(MANDIR)/$$l/man1/frost.1; done
	install -m 644 $(BUILD)/frost.bash $(DESTDIR)$(BASH_COMPDIR)/frost
	install -m 644 $(BUILD)/_frost $(DESTDIR)$(ZSH_COMPDIR)/_frost
	for l in $(PO_LANGS); do install -D -m 644 $(BUILD)/locale/$$l/LC_MESSAGES/frost.mo \
	    $(DESTDIR)$(DATADIR)/locale/$$l/LC_MESSAGES/frost.mo; done
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/frost $(DESTDIR)$(MANDIR)/man1/frost.1 $(DESTDIR)$(BASH_COMPDIR)/frost \
	    $(DESTDIR)$(ZSH_COMPDIR)/_frost $(addprefix $(DESTDIR)$(DATADIR)/frost/,$(THEME_FILES)) \
	    $(addprefix $(DESTDIR)$(DATADIR)/frost/,$(LESSON_FILES)) $(DESTDIR)$(LIBDIR)/frost/libfrost_torch.so $(PO_LANGS:%=$(DESTDIR)$(DATADIR)/locale/%/LC_MESSAGES/frost.mo) \
	    $(PO_LANGS:%=$(DESTDIR)$(MANDIR)/%/man1/frost.1)
	-rmdir $(DESTDIR)$(DATADIR)/frost/themes $(DESTDIR)$(DATADIR)/frost/lessons $(DESTDIR)$(DATADIR)/frost $(DESTDIR)$(LIBDIR)/frost 2>/dev/null

# Everything the suite starts carries FROST_TEST_RUN; a process still carrying it afterwards is one the
# suite failed to end, and fails the run (scripts/test-leftovers.sh names and ends it).
# OMP_WAIT_POLICY=passive: the suite runs tests side by side, each with libtorch's OpenMP threads on
# every core, and threads spinning at a barrier take the cores from the other test's (trainer/* on
# 2 cores: 30.7 s spinning, 20.2 s passive). Only the waiting changes, not a number.
TEST_ENV := OMP_WAIT_POLICY=passive FROST_LOCALES=$(TEST_LOCALES)
# TEST_SET=fresh: the subset a freshly installed system runs (make fresh-check; README, Tests): a test
# or a few from each folder (tests/core, cli, tui, shim), and one of every outside program the suite
# uses: tmux, procps, the python3 oracles (torchvision, PIL, onnx; of the scripts run before, PIL's),
# ONNX Runtime from npm, jpegtran, zsh and bash completion, groff and mandoc, torchrun. Criterion's
# extended glob; TEST_ARGS still adds options of its own.
FRESH_TESTS := @(text_wrap/*|decode/restart_marker_jpegs_match_pil|onnx_export/resnet18_matches_torch_and_describes_its_input|class_weights/auto_weights_match_pytorch|cli_help/*|install/*|export/pytorch_script_under_torchrun_with_two_processes|tui/signals_restore_the_terminal|tui/vgg16_before_and_after_side_by_side|tui_train/screen_values_equal_the_json_log|tui_language/the_interface_in_chinese_lines_up)
# (of the oracles run before the suite, the subset needs Pillow's decoding only)
TEST_SET ?= all
TEST_FILTER = $(if $(filter fresh,$(TEST_SET)),--filter '$(FRESH_TESTS)')
TEST_ORACLE = $(if $(filter fresh,$(TEST_SET)),$(ORACLE_DIR)/pil_decode_oracle.done,$(ORACLE))
test: | $(DEPS_TEST)
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/frost $(BUILD)/frost_tests $(TEST_ORACLE) $(ORT) \
	    $(TEST_LOCALE_DIRS)
	@run=frost-test-$$$$-$$RANDOM; rc=0; \
	echo "$(TEST_ENV) $(SAN_ENV) FROST_BIN=$(BUILD)/frost FROST_ORACLE=$(ORACLE_DIR) FROST_ORT=$(ORT_DIR)/node_modules $(BUILD)/frost_tests $(TEST_FILTER) $(TEST_ARGS)"; \
	FROST_TEST_RUN=$$run $(TEST_ENV) $(SAN_ENV) FROST_BIN=$(BUILD)/frost FROST_ORACLE=$(ORACLE_DIR) FROST_ORT=$(ORT_DIR)/node_modules $(BUILD)/frost_tests $(TEST_FILTER) $(TEST_ARGS) || rc=$$?; \
	scripts/test-leftovers.sh $$run || rc=1; \
	exit $$rc

# The README's two commands, run first on a bare Debian (DEBIAN=bookworm or trixie), as root: a root
# made by mmdebstrap from this machine's apt sources, HEAD cloned into it, make run in tmux, make test
# TEST_SET=fresh, make install (scripts/fresh-check.sh says how).
DEBIAN ?= bookworm
fresh-check:
	DEBIAN=$(DEBIAN) scripts/fresh-check.sh

# ---------------------------------------------------------------------------------------------
# Fuzzing (libFuzzer, clang): each fuzz/fuzz_NAME.c with the core files it reads, built with
# ASan + UBSan. `make fuzz` first replays fuzz/regressions/NAME/* (inputs that once failed), then
# runs each target for FUZZ_SECONDS from its committed seeds (fuzz/corpus/NAME) plus what earlier
# runs found ($(BUILD)/fuzz/corpus-NAME). A crash stops it and leaves the input in $(BUILD)/fuzz/.

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_TARGETS := image safetensors pth theme dataset lesson
FUZZ_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(addprefix -Icore/,$(CORE_ROOMS)) \
              -Ishim $(PKG_CFLAGS)
FUZZ_COMMON := core/base/errmsg.c core/base/text_escape.c core/base/regular_file.c
FUZZ_SRC_image := core/data/image_decode.c core/data/image_resize.c core/data/image_transform.c $(FUZZ_COMMON)
FUZZ_SRC_safetensors := core/model/safetensors.c core/base/atomic_file.c core/base/path.c $(FUZZ_COMMON)
FUZZ_SRC_pth := core/model/pth_file.c core/model/pickle.c core/model/safetensors.c core/base/atomic_file.c core/base/path.c \
                $(FUZZ_COMMON)
FUZZ_SRC_theme := core/settings/theme_file.c core/base/path.c $(FUZZ_COMMON)
FUZZ_SRC_dataset := core/data/dataset.c core/data/folder_walk.c core/base/path.c core/base/rng.c core/data/badfiles.c \
                    $(FUZZ_COMMON)
# (the lesson reader asks the shim's loader for the architectures' names: it answers without libtorch)
FUZZ_SRC_lesson := core/teach/lesson.c core/base/text_buf.c core/base/path.c shim/torch_load.c $(FUZZ_COMMON)
DEPS_FUZZ := $(BUILD)/.deps-fuzz

$(DEPS_FUZZ): scripts/install-deps.sh | $(DEPS_BUILD)
	@mkdir -p $(@D)
	scripts/install-deps.sh fuzz
	@touch $@

.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) | $(DEPS_FUZZ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $^ -o $@ $(PKG_LIBS) -ldl -lpthread -lm

fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    if [ -d fuzz/regressions/$$t ] && [ -n "$$(ls fuzz/regressions/$$t)" ]; then \
	        echo "fuzz $$t: replaying fuzz/regressions/$$t"; $(BUILD)/fuzz/fuzz_$$t fuzz/regressions/$$t/*; fi; \
	    mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	    echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
	    if ! $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
	        -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$t- $(BUILD)/fuzz/corpus-$$t fuzz/corpus/$$t \
	        > $(BUILD)/fuzz/$$t.log 2>&1; then tail -n 60 $(BUILD)/fuzz/$$t.log; exit 1; fi; \
	    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' $(BUILD)/fuzz/$$t.log || true; \
	done

# The thread stress test (tests/stress/): a plain program, run under ThreadSanitizer by
# `make stress SANITIZE=thread` (and make tsan); it also runs without.
$(BUILD)/stress_threads: $(BUILD)/obj/tests/stress/stress_threads.o $(CORE_OBJ) $(SHIM_LOAD_OBJ) $(SAN_OBJ) $(SHIM_LIB)
	$(CXX) $(SAN_FLAGS) -o $@ $(filter-out $(SHIM_LIB),$^) $(LDLIBS_ALL)

$(BUILD)/obj/tests/stress/%.o: tests/stress/%.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(call c_flags,$(CORE_INC)) -c $< -o $@

stress:
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/stress_threads
	$(SAN_ENV) $(BUILD)/stress_threads

# ThreadSanitizer over frost's threads (CI): the stress program, then the tests whose code runs on
# threads: the trainer's (its thread, the loader's workers, the owner's controls), the loader's, every
# job's (doctor, thumbnails, Grad-CAM, calibration, downloads, predictions, the interface's model
# work), the feature cache on disk through the frost binary's training runs (cli_cache), and the exit
# status of a race. Tests that run
# on one thread only are left out: TSan has nothing to find there, and every test's process costs
# seconds to start under it; so is the trainer's cache on/off comparison, which also trains a VGG11
# (every copy into its 500 MB of weights is shadowed: over 5 minutes). Criterion starts under TSan
# with tests/sanitizers/criterion_tsan.c.
TSAN_TESTS := trainer/@(learns_two_classes|pause_resume_stop_at_batch_boundaries|trainable_modules_*) \
              loader/* job/* doctor_job/* thumb_job/* calibrate_job/* fetch_job/* model_job/* gradcam_core/job_* \
              predict/@(job_*|cancel_stops_the_job) cli_cache/* sanitizer_reports/thread_sanitizer
space := $(subst ,, )
tsan:
	@$(MAKE) --no-print-directory SANITIZE=thread stress
	@$(MAKE) --no-print-directory SANITIZE=thread test TEST_ARGS="--filter '@($(subst $(space),|,$(strip $(TSAN_TESTS))))'"

# LeakSanitizer over every command (the SANITIZE=address,undefined build: LSan comes with ASan)
leaks:
	@$(MAKE) --no-print-directory -j$(JOBS) SANITIZE=address,undefined build-address-undefined/frost
	scripts/leak-check.sh build-address-undefined/frost

# ---------------------------------------------------------------------------------------------
# One layout for the whole tree (.clang-format): `make format` applies it, `make format-check`
# (CI) lists every file that differs and fails.

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' '*.cpp' '*.hpp' 2>/dev/null || find core cli tui shim tests fuzz main.c -name '*.[ch]' -o -name '*.[ch]pp')
DEPS_FORMAT := $(BUILD)/.deps-format

$(DEPS_FORMAT): scripts/install-deps.sh
	@mkdir -p $(@D)
	scripts/install-deps.sh format
	@touch $@

format: | $(DEPS_FORMAT)
	clang-format -i $(FORMAT_FILES)

format-check: | $(DEPS_FORMAT)
	@out=$$(clang-format --dry-run --Werror $(FORMAT_FILES) 2>&1) && \
	    echo "format-check: $(words $(FORMAT_FILES)) files as .clang-format lays them out" || \
	    { printf '%s\n' "$$out" | grep -o '^[^ :]*:[0-9]*:[0-9]*: error' | cut -d: -f1 | sort -u | \
	      sed 's/$$/: not formatted (run make format)/'; exit 1; }

clean:
	rm -rf $(BUILD) build-address-undefined build-thread

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d)
