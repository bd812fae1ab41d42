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
	root     string                  // the module's folder
	packages map[string]*packageDocs // by package path
}

// packageDocs is what one package's source says: its types' docs, and its constants, which the docs name
// ("Default DefaultImage.") and a program in another language cannot look up.
type packageDocs struct {
	types     map[string]typeDoc
	constants map[string]constant
	imports   map[string]string // name -> package path, over the package's files
}

// constant is a constant's literal value, or the constant of another package it is defined as.
type constant struct {
	literal   string // as written: "gitlab/gitlab-ce:18.11.11-ce.0", 5432
	pkg, name string // for DefaultEngineVersion = postgres.DefaultEngineVersion
}

func newDocs(root string) *docs {
	return &docs{root: root, packages: map[string]*packageDocs{}}
}

// of returns t's docs, with the constants they name replaced by their values; nothing for a type outside the
// module.
func (d *docs) of(t reflect.Type) (typeDoc, error) {
	if t.Name() == "" || !strings.HasPrefix(t.PkgPath(), module) {
		return typeDoc{}, nil
	}
	pkg, err := d.pkg(t.PkgPath())
	if err != nil {
		return typeDoc{}, err
	}
	raw := pkg.types[t.Name()]
	out := typeDoc{doc: d.values(pkg, raw.doc), fields: map[string]string{}}
	for name, doc := range raw.fields {
		out.fields[name] = d.values(pkg, doc)
	}
	return out, nil
}

func (d *docs) pkg(path string) (*packageDocs, error) {
	if pkg, ok := d.packages[path]; ok {
		return pkg, nil
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
	pkg, err := parsePackage(filepath.Join(d.root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	d.packages[path] = pkg
	return pkg, nil
}

// constantName is a word that may name a constant: DefaultImage, or postgres.DefaultEngineVersion.
var constantName = regexp.MustCompile(`\b(?:([a-z][a-z0-9]*)\.)?([A-Z][A-Za-z0-9]*)\b`)

// values replaces each constant a doc names by its value: "Default DefaultImage." becomes
// "Default "gitlab/gitlab-ce:18.11.11-ce.0".", what a TypeScript or YAML author must write.
func (d *docs) values(pkg *packageDocs, doc string) string {
	return constantName.ReplaceAllStringFunc(doc, func(word string) string {
		m := constantName.FindStringSubmatch(word)
		if value, ok := d.resolve(pkg, m[1], m[2], 0); ok {
			return value
		}
		return word
	})
}

func (d *docs) resolve(pkg *packageDocs, qualifier, name string, depth int) (string, bool) {
	if qualifier != "" {
		path, ok := pkg.imports[qualifier]
		if !ok || !strings.HasPrefix(path, module) || depth > 3 {
			return "", false
		}
		other, err := d.pkg(path)
		if err != nil {
			return "", false
		}
		pkg = other
	}
	c, ok := pkg.constants[name]
	switch {
	case !ok:
		return "", false
	case c.literal != "":
		return c.literal, true
	}
	return d.resolve(pkg, c.pkg, c.name, depth+1)
}

func parsePackage(dir string) (*packageDocs, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	pkg := &packageDocs{types: map[string]typeDoc{}, constants: map[string]constant{}, imports: map[string]string{}}
	types := pkg.types
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
		for _, spec := range file.Imports {
			path := strings.Trim(spec.Path.Value, `"`)
			name := path[strings.LastIndex(path, "/")+1:]
			if spec.Name != nil {
				name = spec.Name.Name
			}
			pkg.imports[name] = path
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if ok && gen.Tok == token.CONST {
				constants(gen, pkg.constants)
			}
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
	return pkg, nil
}

// constants records the exported constants of a declaration whose value is a literal or another constant.
func constants(gen *ast.GenDecl, out map[string]constant) {
	for _, spec := range gen.Specs {
		spec := spec.(*ast.ValueSpec)
		if len(spec.Names) != len(spec.Values) {
			continue
		}
		for i, name := range spec.Names {
			if !name.IsExported() {
				continue
			}
			switch v := spec.Values[i].(type) {
			case *ast.BasicLit:
				out[name.Name] = constant{literal: v.Value}
			case *ast.Ident:
				out[name.Name] = constant{name: v.Name}
			case *ast.SelectorExpr:
				if x, ok := v.X.(*ast.Ident); ok {
					out[name.Name] = constant{pkg: x.Name, name: v.Sel.Name}
				}
			}
		}
	}
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
// "Required" and goes on with a stop, a comma, "for every" or an aside in parentheses ("Required.", "Required;
// never 0.0.0.0/0.", "Required for every zone.", "Required (pass the GitLab component's Namespace)"), not
// "Required with PublicEndpoint", which is a condition.
var required = regexp.MustCompile(`(^|[.;:]\s+)Required([.;:,]|\s+for every|\s+\()`)
