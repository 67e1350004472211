package ringcache

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The package's layers: the loading layer is built on the engine, and
// the face (the Cache type, its Config and Stats) joins the two.
var (
	loadingFiles = []string{"loading.go", "loader.go", "errorcache.go", "loadtimes.go"}
	faceFiles    = []string{"cache.go", "config.go", "stats.go", "errors.go", "doc.go"}
)

// TestTheEngineKnowsNothingOfLoading holds the layering: no file of the
// engine names anything the loading layer declares.
func TestTheEngineKnowsNothingOfLoading(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	parsed := map[string]*ast.File{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		require.NoError(t, err)
		parsed[name] = f
	}
	for _, name := range append(slices.Clone(loadingFiles), faceFiles...) {
		require.Contains(t, parsed, name, "a layer names a file that is gone")
	}
	loadingNames := map[string]bool{}
	for _, name := range loadingFiles {
		for _, d := range parsed[name].Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				// A method of a loading type is reached only through that
				// type; one of Cache's is a name of the layer.
				if d.Recv == nil || isCache(d.Recv.List[0].Type) {
					loadingNames[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						loadingNames[s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							loadingNames[n.Name] = true
						}
					}
				}
			}
		}
	}
	require.NotEmpty(t, loadingNames)
	for name, f := range parsed {
		if slices.Contains(loadingFiles, name) || slices.Contains(faceFiles, name) {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && loadingNames[id.Name] {
				t.Errorf("%s: the engine names %s, which the loading layer declares", fset.Position(id.Pos()), id.Name)
			}
			return true
		})
	}
}

// isCache reports whether a receiver's type is Cache or *Cache.
func isCache(e ast.Expr) bool {
	if star, ok := e.(*ast.StarExpr); ok {
		e = star.X
	}
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "Cache"
}
