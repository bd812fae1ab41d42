package componentpkg

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
)

// module is this project's Go module: the types whose doc comments the schema carries live under it.
const module = "github.com/gitlab-ha/gitlab-ha"

// typeDoc is what a type's doc comments say: of the type, and of each field by Go name.
type typeDoc struct {
	doc    string
	fields map[string]string
}

// docs reads the doc comments of the project's types from their source with go/ast, a package at a time.
type docs struct {
	root     string                        // the module's folder
	packages map[string]map[string]typeDoc // package path -> type name -> docs
}

func newDocs(root string) *docs {
	return &docs{root: root, packages: map[string]map[string]typeDoc{}}
}

// of returns t's docs; nothing for a type outside the module.
func (d *docs) of(t reflect.Type) (typeDoc, error) {
	rel, ok := strings.CutPrefix(t.PkgPath(), module)
	if !ok || t.Name() == "" {
		return typeDoc{}, nil
	}
	types, ok := d.packages[t.PkgPath()]
	if !ok {
		var err error
		if types, err = parsePackage(filepath.Join(d.root, filepath.FromSlash(strings.TrimPrefix(rel, "/")))); err != nil {
			return typeDoc{}, err
		}
		d.packages[t.PkgPath()] = types
	}
	return types[t.Name()], nil
}

func parsePackage(dir string) (map[string]typeDoc, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	types := map[string]typeDoc{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("reading doc comments: %w", err)
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.TYPE {
				continue
			}
			for _, spec := range gen.Specs {
				spec := spec.(*ast.TypeSpec)
				doc := spec.Doc
				if doc == nil && len(gen.Specs) == 1 {
					doc = gen.Doc
				}
				td := typeDoc{doc: text(doc), fields: map[string]string{}}
				if st, ok := spec.Type.(*ast.StructType); ok {
					fieldDocs(fset, st, td.fields)
				}
				types[spec.Name.Name] = td
			}
		}
	}
	return types, nil
}

// fieldDocs reads each field's doc comment, or its line comment. A field with neither, declared on the line
// right after a documented one, shares that one's comment: "AccessKeyID and SecretAccessKey are a static key"
// documents both.
func fieldDocs(fset *token.FileSet, st *ast.StructType, out map[string]string) {
	var previous string
	previousEnd := -1
	for _, f := range st.Fields.List {
		doc := text(f.Doc)
		if doc == "" {
			doc = text(f.Comment)
		}
		if doc == "" && fset.Position(f.Pos()).Line == previousEnd+1 {
			doc = previous
		}
		for _, name := range f.Names {
			out[name.Name] = doc
		}
		previous, previousEnd = doc, fset.Position(f.End()).Line
	}
}

var paragraphBreak = regexp.MustCompile(`\n\s*\n`)

// text is a comment as prose: its lines joined, its paragraphs kept.
func text(group *ast.CommentGroup) string {
	if group == nil {
		return ""
	}
	paragraphs := paragraphBreak.Split(strings.TrimSpace(group.Text()), -1)
	for i, p := range paragraphs {
		paragraphs[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paragraphs, "\n\n")
}

// required is the project's convention for a required field: its doc comment has a sentence that starts with
// "Required" and goes on with a stop, a comma or "for every" ("Required.", "Required; never 0.0.0.0/0.",
// "Required for every zone."), not "Required with PublicEndpoint", which is a condition.
var required = regexp.MustCompile(`(^|[.;:]\s+)Required([.;:,]|\s+for every)`)
