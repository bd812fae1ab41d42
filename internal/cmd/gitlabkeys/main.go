// Command gitlabkeys turns saved GitLab keys into the value of the secret config gitlab-ha:gitlabKeys
// (GitLabArgs.Keys), on standard output, so that a stack holds them and renders them byte for byte:
//
//	# an offline copy of a stack's keys, for a restore into a new stack:
//	kubectl -n gitlab get secret gitlab-secrets gitlab-ssh-host-keys gitlab-initial-root-password -o json \
//	  | go run ./internal/cmd/gitlabkeys save > gitlab-keys.json
//	pulumi config set --secret gitlab-ha:gitlabKeys < gitlab-keys.json        # in the new stack
//
//	# once, on an installation whose volume holds an earlier version's gitlab-secrets.json:
//	kubectl -n gitlab exec deploy/gitlab-<zone> -- cat /etc/gitlab-previous/gitlab-secrets.json \
//	  | go run ./internal/cmd/gitlabkeys adopt -with current.json | pulumi config set --secret gitlab-ha:gitlabKeys
//
// Both read standard input and print the same JSON for the same input: running them again changes nothing.
// Nothing they read or print is written anywhere else.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gitlabkeys:", err)
		os.Exit(1)
	}
}

const usage = "usage: gitlabkeys save < secrets.json | gitlabkeys adopt [-with current-keys.json] < gitlab-secrets.json"

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", usage)
	}
	input, err := io.ReadAll(stdin)
	if err != nil {
		return err
	}
	var keys map[string]string
	switch args[0] {
	case "save":
		if len(args) != 1 {
			return fmt.Errorf("%s", usage)
		}
		var left []string
		if keys, left, err = gitlab.KeysFromSecrets(input); err != nil {
			return err
		}
		if len(left) > 0 {
			fmt.Fprintf(stderr, "left out, the stack's own credentials: %s\n", strings.Join(left, ", "))
		}
	case "adopt":
		flags := flag.NewFlagSet("adopt", flag.ContinueOnError)
		flags.SetOutput(stderr)
		with := flags.String("with", "", "the stack's current gitlab-ha:gitlabKeys (pulumi config get), to adopt into")
		if err := flags.Parse(args[1:]); err != nil {
			return err
		}
		given := map[string]string{}
		if *with != "" {
			body, err := os.ReadFile(*with)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(body, &given); err != nil {
				return fmt.Errorf("%s: not a JSON object of keys: %w", *with, err)
			}
		}
		if keys, err = gitlab.KeysFromOmnibusSecrets(input, given); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s", usage)
	}
	out, err := json.MarshalIndent(keys, "", "  ") // sorted by name: the same keys print the same bytes
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}
