package all_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
	"github.com/gitlab-ha/gitlab-ha/providers/awsprovider"
	"github.com/gitlab-ha/gitlab-ha/stacks"
	"github.com/gitlab-ha/gitlab-ha/stacks/all"
)

// stack is a stack's configuration, loaded from the repository's own Pulumi.<name>.yaml.
type stack struct {
	name       string
	config     map[string]string
	secretKeys []string
	// asUpdate evaluates the program as `pulumi up` does; by default as `pulumi preview` does.
	asUpdate bool
}

// update makes run evaluate the program as `pulumi up` does, where the stack files' placeholders are refused.
func (s *stack) update() *stack {
	s.asUpdate = true
	return s
}

func load(t *testing.T, name string) *stack {
	t.Helper()
	loaded, err := stackconfig.Load("../..", name)
	require.NoError(t, err)
	return &stack{name: name, config: loaded.Config, secretKeys: loaded.SecretKeys}
}

// set replaces a key ("zones", "platform") with a value: a string as is, anything else as JSON.
func (s *stack) set(key string, value any) *stack {
	if text, ok := value.(string); ok {
		s.config[stacks.Namespace+":"+key] = text
		return s
	}
	body, _ := json.Marshal(value)
	s.config[stacks.Namespace+":"+key] = string(body)
	return s
}

// patch changes fields of an object key ("database").
func (s *stack) patch(key string, fields map[string]any) *stack {
	object := map[string]any{}
	if raw, ok := s.config[stacks.Namespace+":"+key]; ok {
		_ = json.Unmarshal([]byte(raw), &object)
	}
	for k, v := range fields {
		object[k] = v
	}
	return s.set(key, object)
}

// secret sets a key as a secret, as `pulumi config set --secret` would.
func (s *stack) secret(key, value string) *stack {
	s.set(key, value)
	s.secretKeys = append(s.secretKeys, stacks.Namespace+":"+key)
	return s
}

// run evaluates the real program (Load, Deploy, Export) under mocks; extra options (an answer of another
// provider's making, say) come after the stack's.
func (s *stack) run(t *testing.T, extra ...componenttest.Option) (*componenttest.Result, *stacks.Outputs) {
	t.Helper()
	var out *stacks.Outputs
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		cfg, err := stacks.Load(ctx)
		if err != nil {
			return err
		}
		if out, err = all.Deploy(ctx, cfg); err != nil {
			return err
		}
		out.Export(ctx)
		return nil
	}, append(s.options(), extra...)...)
	return result, out
}

// options run the stack's configuration, as a preview unless update was asked for.
func (s *stack) options() []componenttest.Option {
	options := []componenttest.Option{componenttest.WithStack("gitlab-ha", s.name), componenttest.WithConfig(s.config, s.secretKeys...)}
	if !s.asUpdate {
		options = append(options, componenttest.WithPreview())
	}
	return options
}

func deploy(t *testing.T, name string) (*componenttest.Result, *stacks.Outputs) {
	t.Helper()
	result, out := load(t, name).run(t)
	require.NoError(t, result.Err)
	return result, out
}

func TestTheDevAndProdStacksBuildWhatTheirConfigurationSays(t *testing.T) {
	cases := map[string]map[string]int{
		"dev": {
			"aws:ec2/subnet:Subnet": 4, "aws:ec2/natGateway:NatGateway": 1, "aws:eks/cluster:Cluster": 1,
			"aws:eks/nodeGroup:NodeGroup": 2, "aws:rds/instance:Instance": 1, "aws:efs/mountTarget:MountTarget": 2,
			"aws:lb/loadBalancer:LoadBalancer": 1, "aws:lb/listener:Listener": 2, "aws:autoscaling/attachment:Attachment": 4,
			"aws:elasticache/replicationGroup:ReplicationGroup": 0, "aws:ec2/flowLog:FlowLog": 0,
			"kubernetes:core/v1:PersistentVolume": 2, "kubernetes:core/v1:PersistentVolumeClaim": 2,
			"kubernetes:apps/v1:Deployment": 3, // a zone each, and the in-cluster Redis
		},
		"prod": {
			"aws:ec2/subnet:Subnet": 6, "aws:ec2/natGateway:NatGateway": 3, "aws:eks/cluster:Cluster": 1,
			"aws:eks/nodeGroup:NodeGroup": 3, "aws:rds/instance:Instance": 1, "aws:efs/mountTarget:MountTarget": 3,
			"aws:lb/loadBalancer:LoadBalancer": 1, "aws:lb/listener:Listener": 3, "aws:autoscaling/attachment:Attachment": 9,
			"aws:elasticache/replicationGroup:ReplicationGroup": 1, "aws:ec2/flowLog:FlowLog": 1,
			"kubernetes:core/v1:PersistentVolume": 3, "kubernetes:core/v1:PersistentVolumeClaim": 3,
			"kubernetes:apps/v1:Deployment": 3, // a zone each; Redis is ElastiCache
		},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			result, _ := deploy(t, name)
			counts := result.CountByType()
			for typ, n := range want {
				assert.Equal(t, n, counts[typ], typ)
			}
			assert.Equal(t, len(result.Components()), result.OutputsRegistered, "every component registers its outputs")
		})
	}
}

func TestEachZoneIsWiredEndToEndFromSubnetToDeployment(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			result, _ := deploy(t, name)
			zones := []string{}
			require.NoError(t, json.Unmarshal([]byte(load(t, name).config["gitlab-ha:zones"]), &zones))
			for _, zone := range zones {
				subnet, ok := result.Find("aws:ec2/subnet:Subnet", "gitlab-private-"+zone)
				require.True(t, ok, zone)
				assert.Equal(t, zone, subnet.InputString("availabilityZone"))

				target, ok := result.Find("aws:efs/mountTarget:MountTarget", "gitlab-data-"+zone)
				require.True(t, ok, zone)
				assert.Equal(t, subnet.ID, target.InputString("subnetId"), "%s: mount target in the zone's subnet", zone)

				volume, ok := result.Find("kubernetes:core/v1:PersistentVolume", "gitlab-"+zone)
				require.True(t, ok, zone)
				ip, _ := target.Output("ipAddress")
				assert.Equal(t, ip, volume.InputString("spec.nfs.server"), "%s: volume served by the zone's mount target", zone)

				claim, ok := result.Find("kubernetes:core/v1:PersistentVolumeClaim", "gitlab-"+zone)
				require.True(t, ok, zone)
				for k, v := range claim.InputMap("spec.selector.matchLabels") {
					assert.Equal(t, v, volume.InputMap("metadata.labels")[k], "%s: claim selects the zone's volume", zone)
				}

				deployment, ok := result.Find("kubernetes:apps/v1:Deployment", "gitlab-"+zone)
				require.True(t, ok, zone)
				assert.Equal(t, claim.InputString("metadata.name"), deployment.InputString("spec.template.spec.volumes[0].persistentVolumeClaim.claimName"),
					"%s: the Deployment mounts the zone's claim", zone)
				assert.Equal(t, map[string]string{gitlab.ZoneLabel: zone}, deployment.InputMap("spec.template.spec.nodeSelector"),
					"%s: pods on the zone's nodes, which EKS labels with their zone", zone)
				group, _ := result.Find("aws:eks/nodeGroup:NodeGroup", "gitlab-"+zone)
				assert.Equal(t, []any{subnet.ID}, group.MustInput(t, "subnetIds"), "%s: the zone's nodes in the zone's subnet", zone)
			}
		})
	}
}

func TestProdProtectsItsStatefulResourcesAndDevDoesNot(t *testing.T) {
	stateful := map[string]bool{
		"aws:eks/cluster:Cluster": true, "aws:kms/key:Key": true, "aws:rds/instance:Instance": true, "aws:efs/fileSystem:FileSystem": true,
		"aws:s3/bucketV2:BucketV2": true,
	}
	prod, _ := deploy(t, "prod")
	dev, _ := deploy(t, "dev")
	for _, r := range prod.Resources {
		// A retained bucket keeps its settings (public access block, encryption, TLS-only policy), so that
		// nothing left behind is open; they are not protected themselves.
		bucketSetting := strings.HasPrefix(r.Type, "aws:s3/") && !stateful[r.Type]
		assert.Equal(t, stateful[r.Type], r.Protect, "prod %s %s protect", r.Type, r.Name)
		assert.Equal(t, stateful[r.Type] || bucketSetting, r.RetainOnDelete, "prod %s %s retainOnDelete", r.Type, r.Name)
	}
	for _, r := range dev.Resources {
		assert.False(t, r.Protect || r.RetainOnDelete, "dev %s %s", r.Type, r.Name)
	}

	prodDB, devDB := prod.OfType("aws:rds/instance:Instance")[0], dev.OfType("aws:rds/instance:Instance")[0]
	assert.Equal(t, true, prodDB.Inputs["deletionProtection"].V)
	assert.Equal(t, true, prodDB.Inputs["multiAz"].V)
	assert.Regexp(t, `^gitlab-db-final-[0-9a-f]{8}$`, prodDB.InputString("finalSnapshotIdentifier"))
	assert.Equal(t, false, devDB.Inputs["deletionProtection"].V)
	assert.Equal(t, false, devDB.Inputs["multiAz"].V)
	assert.Equal(t, true, devDB.Inputs["skipFinalSnapshot"].V)
}

func TestOutputsArePresentAndCredentialsSecret(t *testing.T) {
	_, out := deploy(t, "prod")
	assert.Equal(t, "https://gitlab.example.com", componenttest.MustAwait(t, out.URL).Value)
	assert.Equal(t, "ssh://git@gitlab.example.com:22", componenttest.MustAwait(t, out.SSHEndpoint).Value)
	assert.Regexp(t, `\.elb\.eu-west-1\.amazonaws\.com$`, componenttest.MustAwait(t, out.LoadBalancer).Value)
	assert.NotEmpty(t, componenttest.MustAwait(t, out.ClusterName).Value)
	assert.Regexp(t, `\.rds\.amazonaws\.com:5432$`, componenttest.MustAwait(t, out.DatabaseEndpoint).Value)
	assert.Regexp(t, `^fs-`, componenttest.MustAwait(t, out.FileSystemID).Value)
	assert.Len(t, componenttest.MustAwait(t, out.MountTargets).Value, 3)
	for name, secret := range map[string]pulumi.Output{"kubeconfig": out.Kubeconfig, "root password": out.RootPassword} {
		assert.True(t, componenttest.MustAwait(t, secret).Secret, name)
	}

	_, devOut := deploy(t, "dev")
	assert.Regexp(t, `^http://.+\.elb\.eu-west-1\.amazonaws\.com$`, componenttest.MustAwait(t, devOut.URL).Value, "without a host, the load balancer's address")
}

func TestNoGeneratedSecretIsSentInPlainText(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		result, _ := deploy(t, name)
		var secrets []string
		for _, password := range result.OfType("random:index/randomPassword:RandomPassword") {
			value, _ := password.Output("result")
			secrets = append(secrets, value.(string))
		}
		assert.NotEmpty(t, secrets)
		assert.Empty(t, result.PlaintextLeaks(secrets...), name)
	}
}

func TestEveryAWSResourceIsTaggedWithProjectStackAndComponent(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		result, _ := deploy(t, name)
		provider, ok := result.Find("pulumi:providers:aws", "aws")
		require.True(t, ok)
		assert.Equal(t, map[string]string{awsprovider.ProjectTag: "gitlab-ha", awsprovider.StackTag: name, "environment": name},
			provider.InputMap("defaultTags.tags"), "project and stack reach every resource through the provider")
		reference := provider.URN + "::" + provider.ID
		for _, r := range result.Resources {
			if r.Custom && strings.HasPrefix(r.Type, "aws:") {
				assert.Equal(t, reference, r.Provider, "%s %s uses the tagging provider", r.Type, r.Name)
			}
		}
		assert.Empty(t, result.UntaggedAWSResources(awstags.ComponentKey), name)
	}
}

func TestOnlyTheLoadBalancerListenersAreOpenToTheInternet(t *testing.T) {
	result, _ := deploy(t, "prod")
	for _, rule := range result.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if rule.InputString("cidrIpv4") == "0.0.0.0/0" {
			assert.Contains(t, []float64{80, 443, 22}, rule.Inputs["fromPort"].NumberValue(), rule.Name)
			assert.True(t, strings.HasPrefix(rule.Name, "gitlab-http-") || strings.HasPrefix(rule.Name, "gitlab-https-") ||
				strings.HasPrefix(rule.Name, "gitlab-ssh-"), "%s: only the load balancer's listener rules", rule.Name)
		}
	}
}

func TestSavedGitLabKeysReachTheSecretAndStaySecret(t *testing.T) {
	const saved = "a-db-key-base-saved-from-another-stack"
	result, _ := load(t, "dev").secret("gitlabKeys", `{"GITLAB_DB_KEY_BASE":"`+saved+`"}`).run(t)
	require.NoError(t, result.Err)
	secret, ok := result.Find("kubernetes:core/v1:Secret", "gitlab-secrets")
	require.True(t, ok)
	assert.Equal(t, saved, secret.InputString(`stringData["GITLAB_DB_KEY_BASE"]`))
	assert.Empty(t, result.PlaintextLeaks(saved), "the saved key is secret wherever it goes")
}
