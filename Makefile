# OnAir Studio. `make run` starts the studio, `make test` runs every test.
GO       ?= go
BIN      ?= bin/onair
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
export LANG ?= en_US.UTF-8
# Every build, test and lint leaves out Fyne's bundled emoji font (4 MB in
# the binary and ~11 MB of memory, parsed at each start): emoji in stream
# names come from the system's emoji font (README, "The window").
export GOFLAGS += -tags=no_emoji

.PHONY: deps deps-build deps-test deps-package deps-windows test-windows run serve web build test test-tools test-obs test-short lint fuzz bench clean packaging-tools package-linux package-windows package-macos check-packages install uninstall

## deps: the system packages every target needs (packaging/deps/debian.txt),
## installed with apt-get when missing (as root, or through sudo); with all of
## them there it only asks dpkg. ONAIR_DEPS=skip checks nothing.
DEPS = packaging/deps/install.sh
deps:
	@$(DEPS) build test package
deps-build:
	@$(DEPS) build
deps-test:
	@$(DEPS) build test
deps-package:
	@$(DEPS) build package
deps-windows:
	@$(DEPS) build windows

## run: build and open the studio window (embedded store, loopback ports)
run: build
	./$(BIN)

## serve: build and run the studio headless
serve: build
	./$(BIN) serve

## web: the watch page's player (hls.js, pinned in assets/web/package.json),
## from the npm registry, into assets/web/dist to be embedded
WEB_PLAYER = assets/web/dist/hls.min.js
web: $(WEB_PLAYER)
$(WEB_PLAYER): assets/web/package.json assets/web/package-lock.json
	@$(DEPS) build
	cd assets/web && npm ci --no-audit --no-fund --loglevel=error
	cp assets/web/node_modules/hls.js/dist/hls.min.js $@

## build: the one binary
build: deps-build web
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/onair

## test-tools: test servers installed with go install, pinned: VersityGW,
## the S3-compatible server the recordings-to-S3 tests run (skipped when
## that version is already installed)
VERSITYGW = github.com/versity/versitygw/cmd/versitygw@v1.8.0
test-tools:
	@bin="$$($(GO) env GOPATH)/bin/versitygw"; \
	  if $(GO) version -m "$$bin" 2>/dev/null | grep -q 'github.com/versity/versitygw[[:space:]]*v1.8.0'; then exit 0; fi; \
	  echo "installing VersityGW v1.8.0, the S3 server the tests use (a few minutes the first time)"; \
	  $(GO) install $(VERSITYGW)

## test: vet, gofmt check, make deps's own test (alone: it removes and
## reinstalls a package), then every test with the race detector
## The tests that measure what viewers get (how many keep up behind a slow link, a player's latency
## through an edge or after a stall, how soon Chromium shows the preview's first picture) run alone after
## the rest, without the race detector: the load of other packages' tests on a small machine would decide
## them, not the studio.
MEASURED = ^(TestOriginBehindSlowLink|TestWatchThroughVarnish|TestWatchPageAfterAStartStall|TestPreviewPageFirstPicture)$$
test: deps-test test-tools web lint
	ONAIR_TEST_DEPS=1 $(GO) test -count=1 -run TestDeps ./packaging/deps/
	$(GO) test -race -count=1 -timeout 20m -skip '$(MEASURED)' ./...
	$(GO) test -count=1 -timeout 10m -run '$(MEASURED)' ./cmd/onair/

## test-windows: the Windows build under Wine (Debian's wine64, a prefix made once in bin/wine-prefix):
## the studio headless (a data folder with a space and an accent, RTMP -> HLS, a recording, a restart), its
## window under Xvfb, and the NSIS installer; builds the Windows packages first (make package-windows)
WINE_PREFIX = $(CURDIR)/bin/wine-prefix
test-windows: package-windows
	packaging/windows/wine/prefix.sh $(WINE_PREFIX)
	WINEPREFIX=$(WINE_PREFIX) \
	ONAIR_WINDOWS_EXE=$(CURDIR)/$$(ls -t dist/onair-studio_*_windows_amd64.exe | head -1) \
	ONAIR_WINDOWS_SETUP=$(CURDIR)/$$(ls -t dist/onair-studio_*_windows_amd64_setup.exe | head -1) \
	$(GO) test -tags wine -count=1 -timeout 20m -v ./packaging/windows/

## test-obs: the tests that drive a real OBS Studio (apt-get install obs-studio xvfb); also part of test
test-obs:
	$(GO) test -race -count=1 -run 'OBS' ./engine/obs/ ./cmd/onair/ ./ui/

## test-short: the fast packages only (no Fyne, no ffmpeg)
test-short:
	$(GO) test -race -count=1 ./engine/hub/ ./engine/livestream/ ./store/ ./api/

## lint: gofmt, go vet, golangci-lint (pinned in .ci/lint/go.mod, set in
## .golangci.yml), and the headless packages vetted for Windows and macOS
## (the window needs cgo there, so it is built on those systems only)
HEADLESS = ./engine/... ./api/... ./store/... ./cmd/onair/studio ./cmd/onair-load
GOLANGCI = $(GO) tool -modfile=.ci/lint/go.mod golangci-lint
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOLANGCI) run ./...
	$(GOLANGCI) run --build-tags wine ./packaging/windows/
	@command -v yamllint >/dev/null || { echo "yamllint is missing: sudo apt-get install yamllint (make deps-test)"; exit 1; }
	yamllint -s .github/workflows/
	GOOS=windows $(GO) vet $(HEADLESS)
	GOOS=darwin $(GO) vet $(HEADLESS)

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run XXX -fuzz FuzzDepacketizer -fuzztime $(FUZZTIME) ./engine/ingest/
	$(GO) test -run XXX -fuzz FuzzAVCDecoderConfig -fuzztime $(FUZZTIME) ./engine/ingest/
	$(GO) test -run XXX -fuzz FuzzTSReader -fuzztime $(FUZZTIME) ./engine/ingest/
	$(GO) test -run XXX -fuzz FuzzRequest -fuzztime $(FUZZTIME) ./engine/output/hls/
	$(GO) test -run XXX -fuzz FuzzScan -fuzztime $(FUZZTIME) ./engine/media/mp4frag/
	$(GO) test -run XXX -fuzz FuzzCheckOffer -fuzztime $(FUZZTIME) ./engine/preview/
	$(GO) test -run XXX -fuzz FuzzPreviewToken -fuzztime $(FUZZTIME) ./api/
	$(GO) test -run XXX -fuzz FuzzCreateBody -fuzztime $(FUZZTIME) ./api/
	$(GO) test -run XXX -fuzz FuzzStrictJSON -fuzztime $(FUZZTIME) ./api/
	$(GO) test -run XXX -fuzz FuzzNewestURI -fuzztime $(FUZZTIME) ./cmd/onair-load/
	$(GO) test -run XXX -fuzz FuzzFrameCounter -fuzztime $(FUZZTIME) ./cmd/onair-load/
	$(GO) test -run XXX -fuzz FuzzMendCommand -fuzztime $(FUZZTIME) ./engine/output/simulcast/

## bench: issue 26's eight figures and the Go benchmarks of the hot paths, in
## under 10 minutes (720p30 2.7 Mbit/s clip throughout):
##   Go benchmarks (hot paths, -count 3) and the window's burst of 50 changes (5: UI-thread time);
##   N = 1 and 16 streams, then 200 HLS readers (7: first playable playlist; 3: requests/s);
##   128 streams recorded with 200 readers for 60 s (2);
##   one stream without and with 20 WebRTC preview viewers (4: cost per viewer; 8: first picture);
##   the API without and with a webhook (6: writes/s with 20 writers);
##   the watch page in headless Chromium, 3 runs (1: latency; skipped without Chromium);
##   the window: start (beside a one-label Fyne window's) and memory with 20 streams (5; needs DISPLAY
##   and xev, skipped otherwise).
## Results in bin/bench-*.json and bin/bench-go.txt; see docs/PERFORMANCE.md.
bench: build
	$(GO) build -o bin/onair-load ./cmd/onair-load
	$(GO) test -run XXX -bench . -benchmem -count 3 ./engine/... | tee bin/bench-go.txt
	$(GO) test -run XXX -bench FiftyStreams -benchtime 10x ./ui/ | tee -a bin/bench-go.txt
	./bin/onair-load -n 1,16 -readers 200 -duration 20s -warmup 8s -reader-time 10s -json bin/bench-load.json
	./bin/onair-load -n 128 -record -readers 200 -duration 60s -warmup 8s -reader-time 10s -json bin/bench-128.json
	./bin/onair-load -n 1 -duration 20s -warmup 8s -json bin/bench-preview0.json
	./bin/onair-load -n 1 -preview 20 -duration 20s -warmup 8s -json bin/bench-preview.json
	./bin/onair-load -api -json bin/bench-api.json
	./bin/onair-load -api -api-webhook -json bin/bench-api-webhook.json
	./bin/onair-load -latency -latency-runs 3 -json bin/bench-latency.json
	@if [ -n "$$DISPLAY" ] && command -v xev >/dev/null; then \
	  $(GO) build -o bin/onair-fynewindow ./cmd/onair-load/fynewindow && \
	  ./bin/onair-load -window -window-runs 9 -window-floor bin/onair-fynewindow -json bin/bench-window.json; \
	else echo "window scenario skipped: it needs an X display (DISPLAY) and xev (x11-utils)"; fi

## packaging-tools: the fyne command, pinned (each package's script names the system tools it needs)
FYNE_CLI = fyne.io/tools/cmd/fyne@v1.7.4
packaging-tools:
	$(GO) install $(FYNE_CLI)

## package-linux: dist/onair-studio_VERSION_linux_amd64.tar.xz and dist/onair-studio_VERSION_ARCH.deb
## (packaging/linux/build.sh; the tree is left unchanged)
package-linux: deps-package packaging-tools
	packaging/linux/build.sh

## package-windows: dist/onair-studio_VERSION_windows_amd64.exe and _setup.exe, cross-built here
## (needs gcc-mingw-w64-x86-64 and nsis; packaging/windows/build.sh), then checked
package-windows: deps-windows packaging-tools
	packaging/windows/build.sh
	packaging/windows/check.sh

## package-macos: dist/OnAir Studio.app and the .dmg; on a Mac only (packaging/macos/build.sh)
package-macos: packaging-tools
	packaging/macos/build.sh

## check-packages: what CI checks of the Linux packages (packaging/linux/check.sh)
check-packages: deps-package
	packaging/linux/check.sh

## install / uninstall: the studio for this user (PREFIX=~/.local) or the system (PREFIX=/usr/local)
PREFIX ?= $(HOME)/.local
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/onair
	install -D -m 0644 packaging/linux/onair-studio.desktop $(DESTDIR)$(PREFIX)/share/applications/onair-studio.desktop
	install -D -m 0644 assets/icon.png $(DESTDIR)$(PREFIX)/share/icons/hicolor/256x256/apps/onair-studio.png

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/onair $(DESTDIR)$(PREFIX)/share/applications/onair-studio.desktop \
	  $(DESTDIR)$(PREFIX)/share/icons/hicolor/256x256/apps/onair-studio.png

clean:
	rm -rf bin dist
