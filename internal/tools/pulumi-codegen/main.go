// Command pulumi-codegen judges the component package's schema with Pulumi's own binder and generates its
// SDKs with Pulumi's own generators, the ones the language hosts of Pulumi v3.259.0 run for
// `pulumi package gen-sdk` and `pulumi package add` (pkg/v3/codegen/nodejs and /python, called as those
// hosts call them). It lives in a module of its own so that the project's module never depends on pkg/v3.
//
//	go build -o .cache/tools/pulumi-codegen-v3.259.0 .   (make package does)
//	pulumi-codegen -schema providers/gitlabha/schema.json -out providers/gitlabha/sdk
//
// The schema must bind with no error diagnostic; every diagnostic is printed. Each language's SDK replaces
// the folder of its name under -out.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	schemaPath := flag.String("schema", "providers/gitlabha/schema.json", "the package schema")
	out := flag.String("out", "providers/gitlabha/sdk", "where each language's SDK goes, in a folder of its name")
	languages := flag.String("languages", "nodejs,python", "the SDKs to generate; none to only bind the schema")
	flag.Parse()
	if err := run(*schemaPath, *out, *languages); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-codegen:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out, languages string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	// Strict: no dangling references, unlike the language hosts, which tolerate them.
	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("binding %s: %w", schemaPath, err)
	}
	errorCount := 0
	for _, d := range diags {
		fmt.Fprintln(os.Stderr, d.Error())
		if d.Severity == 1 { // hcl.DiagError
			errorCount++
		}
	}
	fmt.Printf("schema %s: package %s, %d resources, %d types: bound with %d error and %d other diagnostics\n",
		schemaPath, pkg.Name, len(spec.Resources), len(spec.Types), errorCount, len(diags)-errorCount)
	if errorCount > 0 {
		return errors.New("the schema does not bind")
	}
	// As `pulumi package add` generates a package's SDKs (pkg/v3 cmd/pulumi/packages.InstallPackage).
	pkg.SupportPack = true
	for _, language := range strings.Split(languages, ",") {
		if language == "" || language == "none" {
			continue
		}
		files, err := generate(language, pkg)
		if err != nil {
			return fmt.Errorf("generating the %s SDK: %w", language, err)
		}
		if err := write(filepath.Join(out, language), files); err != nil {
			return err
		}
		fmt.Printf("%s SDK: %d files in %s\n", language, len(files), filepath.Join(out, language))
	}
	return nil
}

// generate calls a language's generator as its language host's GeneratePackage does.
func generate(language string, pkg *schema.Package) (map[string][]byte, error) {
	loader := schema.NewCachedLoader(noPackages{})
	switch language {
	case "nodejs":
		// local, as `pulumi package add` asks: an SDK that compiles itself when npm installs it.
		return nodejs.GeneratePackage("pulumi-language-nodejs", pkg, nil, nil, true, loader)
	case "python":
		return python.GeneratePackage("pulumi-language-python", pkg, nil, loader)
	}
	return nil, fmt.Errorf("no generator for %q here: .NET's and Java's live in pulumi-dotnet and pulumi-java, which the module proxy does not serve", language)
}

// write replaces dir with files.
func write(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// noPackages is the loader for a schema that references no other package: asked for one, it says so.
type noPackages struct{}

func (noPackages) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema references package %q; it must reference none", name)
}

func (l noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return l.LoadPackage(d.Name, nil)
}

func (l noPackages) LoadPackageReference(name string, _ *semver.Version) (schema.PackageReference, error) {
	_, err := l.LoadPackage(name, nil)
	return nil, err
}

func (l noPackages) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return l.LoadPackageReference(d.Name, nil)
}
