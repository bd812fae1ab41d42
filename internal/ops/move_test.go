// Package ops holds the operator's scripts for running stacks; its tests run them against stand-ins.
package ops

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeGitLab answers the repository storage moves API as GitLab does: a bulk move is accepted (202), its moves
// are listed with their states, page by page, and projects are counted on a storage (X-Total). Each listing of
// a kind's moves advances them one state, scheduled, started, then finished (or failed).
type fakeGitLab struct {
	mu        sync.Mutex
	scheduled []string          // "project default->cluster"
	listings  map[string]int    // kind -> times listed
	fail      map[string]bool   // kinds whose moves end failed
	editions  map[string]bool   // kinds the edition has
	left      string            // X-Total of projects on the source
	tokens    map[string]string // request -> token seen
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[r.Method+" "+r.URL.Path] = r.Header.Get("PRIVATE-TOKEN")
	kind, isMoves := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/v4/"), "_repository_storage_moves")
	switch {
	case isMoves && !f.editions[kind]:
		http.NotFound(w, r)
	case isMoves && r.Method == http.MethodPost:
		_ = r.ParseForm()
		f.scheduled = append(f.scheduled, kind+" "+r.Form.Get("source_storage_name")+"->"+r.Form.Get("destination_storage_name"))
		w.WriteHeader(http.StatusAccepted)
	case isMoves:
		f.listings[kind]++
		state := []string{"scheduled", "started", "finished"}[min(f.listings[kind]-1, 2)]
		if state == "finished" && f.fail[kind] {
			state = "failed"
		}
		page := r.URL.Query().Get("page")
		moves := []map[string]string{{"state": "finished", "source_storage_name": "default", "destination_storage_name": "elsewhere"}}
		if page == "1" {
			w.Header().Set("X-Next-Page", "2") // this run's moves are on the second page
			moves = []map[string]string{{"state": "finished", "source_storage_name": "other", "destination_storage_name": "cluster"}}
		} else {
			moves = append(moves, map[string]string{"state": state, "source_storage_name": "default", "destination_storage_name": "cluster"})
		}
		_ = json.NewEncoder(w).Encode(moves)
	case r.URL.Path == "/api/v4/projects" && r.URL.Query().Get("repository_storage") == "default":
		w.Header().Set("X-Total", f.left)
		_, _ = w.Write([]byte("[]"))
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusTeapot)
	}
}

func runScript(t *testing.T, f *fakeGitLab) (string, error) {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	server := httptest.NewServer(f)
	defer server.Close()
	cmd := exec.Command("bash", "move-repositories.sh", "default", "cluster")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "GITLAB_URL=" + server.URL + "/", "GITLAB_TOKEN=admin-token", "MOVE_POLL_SECONDS=0"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func newFake() *fakeGitLab {
	return &fakeGitLab{listings: map[string]int{}, fail: map[string]bool{}, tokens: map[string]string{}, left: "0",
		editions: map[string]bool{"project": true, "snippet": true}}
}

func TestEveryRepositoryMovesAndTheScriptWaitsForTheMoves(t *testing.T) {
	f := newFake()
	out, err := runScript(t, f)
	require.NoError(t, err, out)
	assert.Equal(t, []string{"project default->cluster", "snippet default->cluster"}, f.scheduled)
	assert.Contains(t, out, "group wikis: this edition has none")
	assert.Contains(t, out, "projects: 1 moves pending")
	assert.Contains(t, out, "every repository moved from default to cluster")
	assert.GreaterOrEqual(t, f.listings["project"], 6, "two pages, listed until the move finished")
	for request, token := range f.tokens {
		assert.Equal(t, "admin-token", token, request)
	}
}

func TestAFailedMoveOrARepositoryLeftFailsTheScript(t *testing.T) {
	f := newFake()
	f.fail["snippet"] = true
	out, err := runScript(t, f)
	require.Error(t, err)
	assert.Contains(t, out, "snippets: 1 moves failed")

	f = newFake()
	f.left = "3"
	out, err = runScript(t, f)
	require.Error(t, err)
	assert.Contains(t, out, "projects still on default: 3")
	assert.NotContains(t, out, "every repository moved")
}

func TestGroupWikisMoveWhereTheEditionHasThem(t *testing.T) {
	f := newFake()
	f.editions["group"] = true
	out, err := runScript(t, f)
	require.NoError(t, err, out)
	assert.Contains(t, f.scheduled, "group default->cluster")
}
