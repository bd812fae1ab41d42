// Command schemagen writes the component package's schema, generated from the components' Go types and doc
// comments, to providers/gitlabha/schema.json (make package runs it, then the SDK generators).
//
//	go run ./providers/gitlabha/cmd/schemagen -out providers/gitlabha/schema.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gitlab-ha/gitlab-ha/providers/gitlabha/componentpkg"
)

func main() {
	root := flag.String("root", ".", "the module's folder, whose sources hold the doc comments")
	out := flag.String("out", "providers/gitlabha/schema.json", "where to write the schema")
	flag.Parse()
	if err := run(*root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	pkg, err := componentpkg.Schema(root)
	if err != nil {
		return err
	}
	data, err := pkg.JSON()
	if err != nil {
		return err
	}
	return os.WriteFile(out, data, 0o644)
}
