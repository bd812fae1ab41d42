# gitlab-ha: the targets a newcomer and CI run. Everything runs with nothing but Go installed.
GO    ?= go
STACK ?= dev
OUT   ?= plan/$(STACK)

# Validators, pinned; built from the Go module proxy into .cache (outside git) by their wrapper modules in
# internal/tools, and rebuilt only when the pinned version changes.
TOOLS          := .cache/tools
KUBECONFORM    := $(TOOLS)/kubeconform-v0.8.0
KUBE_SCORE     := $(TOOLS)/kube-score-v1.20.0
KUBE_LINTER    := $(TOOLS)/kube-linter-v0.8.3
K8S_VERSION    := 1.36.3
SCHEMAS        := .cache/schemas/v$(K8S_VERSION)
VALIDATE_STACKS := dev prod
# prod planned with each other Git storage (gitlab-ha:gitStorage.kind), into plan/prod-<kind>
VALIDATE_GIT_STORAGE := prod-gitaly prod-gitaly-cluster
# prod planned with the Prometheus Operator's objects (gitlab-ha:monitoring.prometheusOperator), into
# plan/prod-monitoring: its PrometheusRule is what promtool judges.
MONITORING_PLAN := prod-monitoring
MONITORING_SET  := gitlab-ha:monitoring={"prometheusOperator":true}
# promtool, Prometheus v0.316.0 (3.16.0), from the wrapper module internal/tools/promtool; the Prometheus
# Operator's CRDs, for kubeconform's schemas and the e2e control plane, from its Go module at this version.
PROMTOOL            := $(TOOLS)/promtool-v0.316.0
PROMETHEUS_OPERATOR := v0.94.0
CRD_SCHEMAS         := .cache/schemas/prometheus-operator-$(PROMETHEUS_OPERATOR)
RULE_TESTS          := components/monitoring/testdata/alerts_test.yaml

# The e2e control plane, pinned, built from the Go module proxy into .cache/e2e by the wrapper modules in
# internal/tools; the Kubernetes binaries report v1.36.3 through the version ldflags.
E2E         := .cache/e2e
E2E_BINARIES := $(E2E)/etcd-v3.5.21 $(E2E)/kube-apiserver-v1.36.3 $(E2E)/kube-controller-manager-v1.36.3 \
	$(E2E)/kube-scheduler-v1.36.3 $(E2E)/kwok-v0.7.0
K8S_LDFLAGS := -s -w -X k8s.io/component-base/version.gitVersion=v1.36.3 -X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=36 -X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/client-go/pkg/version.gitVersion=v1.36.3

# The component package's judge and SDK generators: Pulumi's own schema binder and code generators at the
# SDK's version, built from the wrapper module internal/tools/pulumi-codegen (rebuilt when its source changes).
PULUMI_CODEGEN := $(TOOLS)/pulumi-codegen-v3.259.0

.PHONY: plan test lint bench bench-build validate e2e package package-check

## plan: evaluate STACK under mocks (no cloud, no Pulumi CLI) and write $(OUT)/
plan:
	$(GO) run ./internal/cmd/plan -stack $(STACK) -out $(OUT)

## test: every package's tests, under mocks
test:
	$(GO) test ./...

## lint: gofmt (must be silent) and go vet
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./internal/e2e/

## package: regenerate the component package from the components' Go types: providers/gitlabha/schema.json
## (bound by Pulumi's binder, which must report no error), then its Node.js and Python SDKs beside it
package: $(PULUMI_CODEGEN)
	$(GO) run ./providers/gitlabha/cmd/schemagen -out providers/gitlabha/schema.json
	$(PULUMI_CODEGEN) -schema providers/gitlabha/schema.json -out providers/gitlabha/sdk

## package-check: fail when the committed schema or SDKs are not what the Go types generate (generated into a
## scratch folder and compared file by file, so a checkout without .git is checked alike and a file the
## generators no longer write is caught), then compile the SDKs (tsc, python3 -m py_compile) and type-check
## examples/typescript (providers/gitlabha/check.sh)
package-check: $(PULUMI_CODEGEN)
	@scratch=$$(mktemp -d); trap 'rm -rf "$$scratch"' EXIT; \
	$(GO) run ./providers/gitlabha/cmd/schemagen -out $$scratch/schema.json && \
	$(PULUMI_CODEGEN) -schema $$scratch/schema.json -out $$scratch/sdk && \
	if ! diff -r -q providers/gitlabha/schema.json $$scratch/schema.json || ! diff -r -q providers/gitlabha/sdk $$scratch/sdk; then \
	  echo "the component package is stale: run make package and commit providers/gitlabha"; exit 1; fi; \
	echo "package-check: schema.json and the SDKs are what the Go types generate"
	providers/gitlabha/check.sh

$(PULUMI_CODEGEN): internal/tools/pulumi-codegen/main.go internal/tools/pulumi-codegen/go.mod internal/tools/pulumi-codegen/go.sum
	@mkdir -p $(TOOLS)
	cd internal/tools/pulumi-codegen && $(GO) build -o $(CURDIR)/$@ .

## bench: evaluation benchmarks under mocks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-build: cold-build each entry point (the main program, each example) beside its floor, a program
## importing only the components and providers it uses; each build with an empty build cache of its own
bench-build:
	$(GO) run ./internal/cmd/buildbench -runs 2

## validate: plan dev and prod (and prod on gitaly and gitaly-cluster, and with the Prometheus Operator's objects), then
## judge every manifest with kubeconform (strict, Kubernetes $(K8S_VERSION) schemas and the Prometheus Operator
## $(PROMETHEUS_OPERATOR) CRDs'), kube-score and kube-linter; any exemption is in .kube-score-ignore or .kube-linter.yaml.
## Then promtool checks the PrometheusRule prod-monitoring renders and runs its unit tests ($(RULE_TESTS)).
validate: $(KUBECONFORM) $(KUBE_SCORE) $(KUBE_LINTER) $(PROMTOOL) $(SCHEMAS)/.complete $(CRD_SCHEMAS)/.complete
	@set -e; for stack in $(VALIDATE_STACKS) $(VALIDATE_GIT_STORAGE) $(MONITORING_PLAN); do \
	  case $$stack in \
	    $(MONITORING_PLAN)) $(GO) run ./internal/cmd/plan -stack prod -set '$(MONITORING_SET)' -out plan/$$stack > /dev/null ;; \
	    prod-*) $(GO) run ./internal/cmd/plan -stack prod -set "gitlab-ha:gitStorage={\"kind\":\"$${stack#prod-}\"}" -out plan/$$stack > /dev/null ;; \
	    *) $(GO) run ./internal/cmd/plan -stack $$stack -out plan/$$stack > /dev/null ;; \
	  esac; \
	  echo "== $$stack: kubeconform"; \
	  $(KUBECONFORM) -strict -summary -schema-location '$(SCHEMAS)/{{ .ResourceKind }}{{ .KindSuffix }}.json' \
	    -schema-location '$(CRD_SCHEMAS)/{{ .ResourceKind }}{{ .KindSuffix }}.json' plan/$$stack/manifests; \
	  echo "== $$stack: kube-score"; \
	  $(KUBE_SCORE) score --output-format ci $$(grep -v -e '^#' -e '^$$' .kube-score-ignore | sed 's/^/--ignore-test /') \
	    plan/$$stack/manifests/*.yaml > plan/$$stack/kube-score.txt || true; \
	  grep -E '^\[(CRITICAL|WARNING)\]' plan/$$stack/kube-score.txt || true; \
	  if grep -q '^\[CRITICAL\]' plan/$$stack/kube-score.txt; then echo "kube-score: CRITICAL findings in $$stack"; exit 1; fi; \
	  echo "kube-score: 0 CRITICAL"; \
	  echo "== $$stack: kube-linter"; \
	  $(KUBE_LINTER) lint --config .kube-linter.yaml plan/$$stack/manifests; \
	done
	@echo "== $(MONITORING_PLAN): promtool"
	$(GO) run ./internal/cmd/promrules -plan plan/$(MONITORING_PLAN) -tests $(RULE_TESTS)
	$(PROMTOOL) check rules plan/$(MONITORING_PLAN)/rules/gitlab-alerts.yaml
	$(PROMTOOL) test rules plan/$(MONITORING_PLAN)/rules/$(notdir $(RULE_TESTS))

$(TOOLS)/kubeconform-%:
	@mkdir -p $(TOOLS)
	cd internal/tools/kubeconform && $(GO) build -o $(CURDIR)/$@ github.com/yannh/kubeconform/cmd/kubeconform

$(TOOLS)/kube-score-%:
	@mkdir -p $(TOOLS)
	cd internal/tools/kube-score && $(GO) build -o $(CURDIR)/$@ github.com/zegl/kube-score/cmd/kube-score

$(TOOLS)/promtool-%:
	@mkdir -p $(TOOLS)
	cd internal/tools/promtool && $(GO) build -o $(CURDIR)/$@ github.com/prometheus/prometheus/cmd/promtool

$(TOOLS)/kube-linter-%:
	@mkdir -p $(TOOLS)
	cd internal/tools/kube-linter && $(GO) build -o $(CURDIR)/$@ golang.stackrox.io/kube-linter/cmd/kube-linter

# Kubernetes' own OpenAPI spec ships in the k8s.io/kubernetes module; k8sschemas turns it into kubeconform's
# schemas offline.
$(SCHEMAS)/.complete:
	@dir=$$($(GO) mod download -json k8s.io/kubernetes@v$(K8S_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  test -n "$$dir" || { echo "cannot download k8s.io/kubernetes@v$(K8S_VERSION)"; exit 1; }; \
	  $(GO) run ./internal/cmd/k8sschemas -spec $$dir/api/openapi-spec/swagger.json -out $(SCHEMAS)
	@touch $@

# The Prometheus Operator's CRDs ship in its Go module (example/prometheus-operator-crd); k8sschemas turns them
# into kubeconform's schemas.
$(CRD_SCHEMAS)/.complete:
	@dir=$$($(GO) mod download -json github.com/prometheus-operator/prometheus-operator@$(PROMETHEUS_OPERATOR) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  test -n "$$dir" || { echo "cannot download github.com/prometheus-operator/prometheus-operator@$(PROMETHEUS_OPERATOR)"; exit 1; }; \
	  $(GO) run ./internal/cmd/k8sschemas -crds "$$dir/example/prometheus-operator-crd/*.yaml" -out $(CRD_SCHEMAS)
	@touch $@

## e2e: apply the dev, prod and Linode plans to a real control plane (etcd, kube-apiserver,
## kube-controller-manager, kube-scheduler v1.36.3, kwok nodes) on loopback, and lose a zone in each; apply the
## Prometheus Operator $(PROMETHEUS_OPERATOR) CRDs and prod-monitoring's monitors and rules to it
e2e: $(E2E_BINARIES)
	$(GO) run ./internal/cmd/plan -stack dev -out plan/dev > /dev/null
	$(GO) run ./internal/cmd/plan -stack prod -out plan/prod > /dev/null
	$(GO) run ./internal/cmd/plan -dir examples/linode -stack example -out plan/linode > /dev/null
	$(GO) run ./internal/cmd/plan -stack prod -set '$(MONITORING_SET)' -out plan/$(MONITORING_PLAN) > /dev/null
	@crds=$$($(GO) mod download -json github.com/prometheus-operator/prometheus-operator@$(PROMETHEUS_OPERATOR) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p')/example/prometheus-operator-crd; \
	  E2E_BIN=$(CURDIR)/$(E2E) E2E_PLANS=$(CURDIR)/plan E2E_PROMETHEUS_OPERATOR_CRDS=$$crds \
	  $(GO) test -tags e2e -count=1 -v -timeout 40m ./internal/e2e/

$(E2E)/etcd-v3.5.21:
	@mkdir -p $(E2E)
	cd internal/tools/etcd && $(GO) build -ldflags "-s -w" -o $(CURDIR)/$@ go.etcd.io/etcd/server/v3

$(E2E)/%-v1.36.3:
	@mkdir -p $(E2E)
	cd internal/tools/kubernetes && $(GO) build -ldflags "$(K8S_LDFLAGS)" -o $(CURDIR)/$@ k8s.io/kubernetes/cmd/$*

$(E2E)/kwok-v0.7.0:
	@mkdir -p $(E2E)
	cd internal/tools/kwok && $(GO) build -ldflags "-s -w" -o $(CURDIR)/$@ sigs.k8s.io/kwok/cmd/kwok
