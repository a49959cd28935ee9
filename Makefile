# The README's two commands are `make run` and `make test`; everything else
# here is for operators and developers.
SHELL := /bin/bash
export CGO_ENABLED := 0
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := true
export CDK_DISABLE_CLI_TELEMETRY := true

GO ?= go
FUNCTIONS := webhook processor drafter api report sweeper
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"

CDK := _tools/node_modules/.bin/cdk

.PHONY: run test test-short vet fuzz chaos bench eval train build build-local tools clean synth diff deploy

## run: the whole pipeline locally (embedded SQLite store and queue, mock Chatwoot); it prints the
## tile link with its token; `go run ./cmd/supportctl demo` in another terminal shows it at work
run:
	$(GO) run ./cmd/supportctl serve

FUZZ_TARGETS := FuzzVerify FuzzDecode FuzzValidate FuzzCheck

## test: vet, every test, and a short run of each fuzz target, as CI runs them
test: vet tools
	$(GO) test -count=1 -timeout 15m ./...
	@# No minimisation in the short runs: on a fresh machine every input is new, and a
	@# minimisation still running when -fuzztime ends fails the run. A count, not a duration: with a
	@# duration, Go 1.26's fuzz coordinator can report its own deadline as "context deadline exceeded"
	@# and fail a target that found nothing (go.dev/issue/75804, fixed in Go 1.27), as it did on a busy
	@# machine; 50,000 inputs is what a target runs in about 5 s under load.
	@for f in $(FUZZ_TARGETS); do $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 50000x -fuzzminimizetime 0s ./internal/chatwoot/ || exit 1; done

## fuzz: each fuzz target for FUZZTIME (default 60 s); crashers land in internal/chatwoot/testdata/fuzz/
FUZZTIME ?= 60s
fuzz:
	@for f in $(FUZZ_TARGETS); do $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./internal/chatwoot/ || exit 1; done

test-short: vet
	$(GO) test -short ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

## chaos: 10,000 webhooks with duplicates and poison, a failing Chatwoot, failing queue sends and
## 3 kill -9; then ordinary messages' delay while poison flows (docs/reliability.md)
chaos:
	$(GO) run ./cmd/chaos $(CHAOS_FLAGS)

## bench: the benchmark figures of docs/benchmarks.md, ratios measured in one run
bench:
	$(GO) run ./cmd/bench

## eval: tagging, anger and drafting figures on ../shared/data and testdata/outofdomain (exits non-zero if a target is missed)
eval:
	$(GO) run ./cmd/evaluate

## train: retrain the anger model (deterministic) into internal/support/anger/model.json and the model.bin it embeds
train:
	$(GO) run ./cmd/train

## build: arm64 Lambda bootstraps under dist/<function>/bootstrap
build:
	@for f in $(FUNCTIONS); do \
	  echo "build $$f"; \
	  GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o dist/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## build-local: amd64 bootstraps for the Lambda Runtime Interface Emulator on this machine
build-local:
	@for f in $(FUNCTIONS); do \
	  GOOS=linux GOARCH=amd64 $(GO) build $(LAMBDA_FLAGS) -o dist-amd64/$$f/bootstrap ./functions/$$f || exit 1; \
	done

RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d

## tools: the pinned Node tools (CDK CLI, dynalite) under _tools/ when node is present,
## and the Lambda Runtime Interface Emulator the bootstrap tests run under
tools:
	@command -v aws-lambda-rie >/dev/null 2>&1 || [ -x "$$($(GO) env GOPATH)/bin/aws-lambda-rie" ] || \
	  CGO_ENABLED=0 $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	@if command -v npm >/dev/null 2>&1 && [ -f _tools/package.json ]; then \
	  if [ ! -d _tools/node_modules ] || [ _tools/package-lock.json -nt _tools/node_modules ]; then \
	    (cd _tools && npm ci --no-audit --no-fund --loglevel=error) && touch _tools/node_modules; \
	  fi; \
	fi

## synth, diff, deploy take the same CDK flags: CDK_FLAGS="-c supportConfig=support.yaml -c webhookRateLimit=2000 …"
## (CDK_DEPLOY_FLAGS, the older name, still works). --strict: any finding of the review gate (cdk-nag) that is
## not suppressed next to its resource fails, errors and warnings alike.
CDK_FLAGS ?= $(CDK_DEPLOY_FLAGS)

## synth: the CloudFormation template in cdk.out (no AWS credentials needed)
synth: build tools
	AWS_EC2_METADATA_DISABLED=true $(CDK) synth --strict --no-notices -q $(CDK_FLAGS)

## diff / deploy: need AWS credentials and a region (AWS_PROFILE / AWS_REGION); run `cdk bootstrap` once
diff: build tools
	$(CDK) diff --strict --no-notices $(CDK_FLAGS)

deploy: build tools
	$(CDK) deploy --strict --no-notices $(CDK_FLAGS)

clean:
	rm -rf dist dist-amd64 cdk.out
