package gitlab

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// StorageDatabase is a database and its owning role on GitLab's PostgreSQL server (GitStorage.Databases).
type StorageDatabase struct {
	// Name of the database and User, its owner, who logs in with Password. All required; Password is kept
	// secret.
	Name, User string
	Password   pulumi.StringInput
}

// storageDatabasePasswordEnv carries the ith storage database's password.
func storageDatabasePasswordEnv(i int) string {
	return fmt.Sprintf("GITLAB_HA_STORAGE_DATABASE_PASSWORD_%d", i)
}

// Variables that tell the regular Job's database step where GitLab's server is; the user and password are
// GitLab's own, from the Secret.
const (
	envDBHost    = "GITLAB_HA_DB_HOST"
	envDBPort    = "GITLAB_HA_DB_PORT"
	envDBName    = "GITLAB_HA_DB_NAME"
	envDBSSLMode = "GITLAB_HA_DB_SSLMODE"
)

// storageDatabaseSQL makes the role and its database where they are missing, and sets the role's password,
// with psql's own quoting (%I, %L). On RDS GitLab's user is not a superuser: it must be a member of the role to
// create a database the role owns.
const storageDatabaseSQL = `SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password')\gexec
SELECT format('GRANT %I TO %I', :'role', current_user) WHERE NOT pg_has_role(current_user, :'role', 'MEMBER')\gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L', :'db', :'role', 'UTF8') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
`

// storageDatabasesScript is the regular Job's step that makes the storage's databases, before the image's
// entrypoint migrates GitLab's own; "" for the post-deployment Job and without Databases.
func storageDatabasesScript(g GitStorage, phase migrationPhase) string {
	if phase.postDeployment || len(g.Databases) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("# The Git storage's databases (Praefect's), on GitLab's server, before GitLab migrates.\n")
	for i, d := range g.Databases {
		fmt.Fprintf(&b, `PGPASSWORD="$%s" PGSSLMODE="$%s" /opt/gitlab/embedded/bin/psql -h "$%s" -p "$%s" -U "$%s" -d "$%s" `+
			`-v ON_ERROR_STOP=1 -v role=%s -v db=%s -v password="$%s" <<'SQL'`+"\n%sSQL\n",
			envDBPassword, envDBSSLMode, envDBHost, envDBPort, envDBUser, envDBName, d.User, d.Name, storageDatabasePasswordEnv(i), storageDatabaseSQL)
	}
	return b.String()
}

// storageDatabasesEnv tells the regular Job's database step where GitLab's server is.
func storageDatabasesEnv(name string, args GitLabArgs, phase migrationPhase) corev1.EnvVarArray {
	if phase.postDeployment || len(args.GitStorage.Databases) == 0 {
		return nil
	}
	db := args.Database
	return corev1.EnvVarArray{
		&corev1.EnvVarArgs{Name: pulumi.String(envDBHost), Value: db.Host},
		&corev1.EnvVarArgs{Name: pulumi.String(envDBPort), Value: db.Port.ToIntOutput().ApplyT(func(p int) string { return fmt.Sprint(p) }).(pulumi.StringOutput)},
		&corev1.EnvVarArgs{Name: pulumi.String(envDBName), Value: db.Name},
		&corev1.EnvVarArgs{Name: pulumi.String(envDBSSLMode), Value: pulumi.String(db.SSLMode)},
	}
}

// postgresName is a role or database name that needs no quoting.
var postgresName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func validateStorageDatabases(databases []StorageDatabase) error {
	for i, d := range databases {
		field := fmt.Sprintf("gitStorage.databases[%d]", i)
		for _, n := range []struct{ field, value string }{{".name", d.Name}, {".user", d.User}} {
			if !postgresName.MatchString(n.value) {
				return validate.Errorf(field+n.field, n.value, "is not a PostgreSQL name of lower-case letters, digits and '_'")
			}
		}
		if err := validate.RequiredString(field+".password", d.Password); err != nil {
			return err
		}
	}
	return nil
}
