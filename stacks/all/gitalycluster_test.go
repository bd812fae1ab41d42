package all_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

const (
	instanceType   = "aws:ec2/instance:Instance"
	volumeType     = "aws:ebs/volume:Volume"
	attachmentType = "aws:ec2/volumeAttachment:VolumeAttachment"
)

var prodZones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

// prodOnGitalyCluster is prod with one configuration value changed: gitStorage.kind, as
// `go run ./internal/cmd/plan -stack prod -set 'gitlab-ha:gitStorage={"kind":"gitaly-cluster"}'` plans it.
func prodOnGitalyCluster(t *testing.T) *stack {
	return load(t, "prod").withGit(map[string]any{"kind": "gitaly-cluster"})
}

// generatedSecrets are every password and token the run generated.
func generatedSecrets(t *testing.T, result *componenttest.Result) []string {
	var values []string
	for _, r := range result.OfType("random:index/randomPassword:RandomPassword") {
		value, ok := r.Output("result")
		require.True(t, ok, r.Name)
		values = append(values, value.(string))
	}
	require.NotEmpty(t, values)
	return values
}

// subnetZone is the zone of the subnet with this ID.
func subnetZone(t *testing.T, result *componenttest.Result, id string) string {
	for _, subnet := range result.OfType("aws:ec2/subnet:Subnet") {
		if got, _ := subnet.Output("id"); got == id {
			return subnet.InputString("availabilityZone")
		}
	}
	t.Fatalf("no subnet %s", id)
	return ""
}

func TestProdOnGitalyClusterRunsAGitalyAndAPraefectInEveryZone(t *testing.T) {
	result, _ := prodOnGitalyCluster(t).run(t)
	require.NoError(t, result.Err)
	instances := result.OfType(instanceType)
	require.Len(t, instances, 6)
	require.Len(t, result.OfType(volumeType), 3)
	for _, zone := range prodZones {
		gitaly, ok := result.Find(instanceType, "gitaly-cluster-gitaly-"+zone)
		require.True(t, ok, zone)
		praefect, ok := result.Find(instanceType, "gitaly-cluster-praefect-"+zone)
		require.True(t, ok, zone)
		volume, ok := result.Find(volumeType, "gitaly-cluster-gitaly-"+zone)
		require.True(t, ok, zone)
		eni, ok := result.Find("aws:ec2/networkInterface:NetworkInterface", "gitaly-cluster-gitaly-"+zone)
		require.True(t, ok, zone)
		eniID, _ := eni.Output("id")
		assert.Equal(t, eniID, gitaly.MustInput(t, "networkInterfaces[0].networkInterfaceId"), "Gitaly %s keeps its address in an interface of its own", zone)
		assert.Equal(t, zone, subnetZone(t, result, eni.InputString("subnetId")), "Gitaly %s runs in its zone", zone)
		assert.Equal(t, zone, volume.InputString("availabilityZone"), "Gitaly %s's volume is in its instance's zone", zone)
		assert.Equal(t, zone, subnetZone(t, result, praefect.InputString("subnetId")), "Praefect %s runs in its zone", zone)
		for _, subnet := range result.OfType("aws:ec2/subnet:Subnet") {
			if id, _ := subnet.Output("id"); id == praefect.InputString("subnetId") {
				assert.Contains(t, subnet.Name, "private", "Praefect %s is in a private subnet", zone)
			}
		}

		assert.True(t, volume.MustInput(t, "encrypted").(bool))
		assert.Equal(t, "gp3", volume.InputString("type"))
		assert.True(t, volume.Protect, "the repositories' volume is protected")
		attachment, ok := result.Find(attachmentType, "gitaly-cluster-gitaly-"+zone)
		require.True(t, ok)
		volumeID, _ := volume.Output("id")
		gitalyID, _ := gitaly.Output("id")
		assert.Equal(t, volumeID, attachment.MustInput(t, "volumeId"))
		assert.Equal(t, gitalyID, attachment.MustInput(t, "instanceId"))

		for _, instance := range []componenttest.Resource{gitaly, praefect} {
			assert.Equal(t, "required", instance.InputString("metadataOptions.httpTokens"), "%s answers IMDSv2 only", instance.Name)
			assert.EqualValues(t, 1, instance.MustInput(t, "metadataOptions.httpPutResponseHopLimit"))
			assert.True(t, instance.MustInput(t, "rootBlockDevice.encrypted").(bool))
			if public, ok := instance.Input("associatePublicIpAddress"); ok {
				assert.Equal(t, false, public, "%s has no public address", instance.Name)
			}
			assert.False(t, instance.InputIsSecret("userData"), "%s's user data is plain, for cloud-init's check and the plan's reader", instance.Name)
			userData := instance.InputString("userData")
			assert.True(t, strings.HasPrefix(userData, "#cloud-config\n"))
			assert.Contains(t, userData, "dnf install -y gitlab-ce-18.11.11-ce.0.amazon2023", "the release GitLab runs")
		}
		assert.Contains(t, gitaly.InputString("userData"), "gitaly_role['enable'] = true")
		assert.Contains(t, praefect.InputString("userData"), "praefect['enable'] = true")
		assert.Equal(t, zone == "eu-west-1a", strings.Contains(praefect.InputString("userData"), "praefect['auto_migrate'] = true"),
			"the first zone's Praefect alone migrates its database")
	}

	secrets := generatedSecrets(t, result)
	assert.Empty(t, result.PlaintextLeaks(secrets...), "no token or password in any user data, ConfigMap or unmasked field")
	for _, p := range result.OfType("aws:ssm/parameter:Parameter") {
		assert.Equal(t, "SecureString", p.InputString("type"), p.Name)
		assert.NotEmpty(t, p.InputString("keyId"), "%s is encrypted with the cluster's key", p.Name)
		assert.True(t, p.InputIsSecret("value"))
	}

	for _, zone := range prodZones {
		deployment, ok := result.Find("kubernetes:apps/v1:Deployment", "gitlab-"+zone)
		require.True(t, ok)
		for _, v := range deployment.MustInput(t, "spec.template.spec.volumes").([]any) {
			assert.NotContains(t, v.(map[string]any), "persistentVolumeClaim", "zone %s mounts no volume", zone)
			assert.NotContains(t, v.(map[string]any), "nfs")
		}
	}
	assert.Empty(t, result.OfType("aws:efs/fileSystem:FileSystem"), "no NFS at all")
	balancer, ok := result.Find("aws:lb/loadBalancer:LoadBalancer", "gitaly-cluster")
	require.True(t, ok)
	assert.Equal(t, true, balancer.MustInput(t, "internal"))
	dns, _ := balancer.Output("dnsName")
	assert.Contains(t, gitlabRB(t, result), "'default' => { 'gitaly_address' => 'tcp://"+dns.(string)+":2305'",
		"GitLab reaches its repositories through Praefect's load balancer")
	assert.Contains(t, gitlabRB(t, result), "gitaly['enable'] = false")

	migrations, _ := result.Find("kubernetes:batch/v1:Job", "gitlab-migrations")
	for _, zone := range prodZones {
		target, ok := result.Find("aws:lb/targetGroupAttachment:TargetGroupAttachment", "gitaly-cluster-praefect-"+zone)
		require.True(t, ok)
		assert.Contains(t, migrations.Dependencies, target.URN, "Rails migrates after every Praefect")
	}
}

func TestEachRoleReadsOnlyItsOwnSecretsAndEachGroupAdmitsOnlyItsClients(t *testing.T) {
	result, _ := prodOnGitalyCluster(t).run(t)
	require.NoError(t, result.Err)
	parameterOf := map[string]string{}
	for _, p := range result.OfType("aws:ssm/parameter:Parameter") {
		arn, _ := p.Output("arn")
		parameterOf[arn.(string)] = p.InputString("name")[strings.LastIndex(p.InputString("name"), "/")+1:]
	}
	readable := func(role string) []string {
		policy, ok := result.Find("aws:iam/rolePolicy:RolePolicy", "gitaly-cluster-"+role)
		require.True(t, ok)
		var names []string
		for arn, name := range parameterOf {
			if strings.Contains(policy.InputString("policy"), `"`+arn+`"`) {
				names = append(names, name)
			}
		}
		assert.NotContains(t, policy.InputString("policy"), `"*"`, "%s's role names its resources", role)
		return names
	}
	assert.ElementsMatch(t, []string{"praefect-internal-token", "gitlab-shell-secret"}, readable("gitaly"))
	assert.ElementsMatch(t, []string{"praefect-external-token", "praefect-internal-token", "praefect-database-password"}, readable("praefect"))

	group := func(name string) string {
		g, ok := result.Find("aws:ec2/securityGroup:SecurityGroup", name)
		require.True(t, ok, name)
		id, _ := g.Output("id")
		return id.(string)
	}
	nodes := group("gitlab-nodes")
	gitaly, praefect, balancer := group("gitaly-cluster-gitaly"), group("gitaly-cluster-praefect"), group("gitaly-cluster-balancer")
	admits := func(groupID string, port float64) []string {
		var sources []string
		for _, rule := range result.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			if rule.InputString("securityGroupId") == groupID && rule.MustInput(t, "fromPort") == port {
				assert.Empty(t, rule.InputString("cidrIpv4"), "%s admits by group, never by address", rule.Name)
				sources = append(sources, rule.InputString("referencedSecurityGroupId"))
			}
		}
		return sources
	}
	assert.ElementsMatch(t, []string{praefect, gitaly}, admits(gitaly, 8075), "Gitaly: from Praefect, and from Gitaly's replication")
	assert.ElementsMatch(t, []string{balancer}, admits(praefect, 2305), "Praefect: from its load balancer alone")
	assert.ElementsMatch(t, []string{nodes, gitaly}, admits(balancer, 2305), "the load balancer: from GitLab's nodes and Gitaly")
	db, _ := result.Find("aws:ec2/securityGroup:SecurityGroup", "gitlab-db")
	dbID, _ := db.Output("id")
	assert.Contains(t, admits(dbID.(string), 5432), praefect, "Praefect reaches its database directly")
}

// TestAVersionChangeReplacesTheInstancesInGitLabsOrderAndNoDataVolume plans prod on Gitaly Cluster at two
// versions of GitLab and compares what Pulumi would see change.
func TestAVersionChangeReplacesTheInstancesInGitLabsOrderAndNoDataVolume(t *testing.T) {
	before, _ := prodOnGitalyCluster(t).run(t)
	require.NoError(t, before.Err)
	after, _ := prodOnGitalyCluster(t).patch("gitlab", map[string]any{"image": "gitlab/gitlab-ce:18.11.12-ce.0"}).run(t)
	require.NoError(t, after.Err)

	for _, zone := range prodZones {
		for _, kind := range []string{"gitaly", "praefect"} {
			old, _ := before.Find(instanceType, "gitaly-cluster-"+kind+"-"+zone)
			updated, _ := after.Find(instanceType, "gitaly-cluster-"+kind+"-"+zone)
			assert.Contains(t, updated.InputString("userData"), "gitlab-ce-18.11.12-ce.0.amazon2023")
			assert.NotEqual(t, old.InputString("userData"), updated.InputString("userData"))
			assert.Equal(t, true, updated.MustInput(t, "userDataReplaceOnChange"), "a new version replaces the %s instance, which installs it afresh", kind)
			assert.Contains(t, updated.IgnoreChanges, "ami", "a newer image alone never replaces an instance")
			for key := range old.Inputs {
				if key != "userData" {
					assert.True(t, reflect.DeepEqual(componenttest.Plain(old.Inputs[key]), componenttest.Plain(updated.Inputs[key])),
						"%s %s: only the user data changes, not %s", kind, zone, key)
				}
			}
		}
		gitaly, _ := after.Find(instanceType, "gitaly-cluster-gitaly-"+zone)
		assert.True(t, gitaly.DeleteBeforeReplace, "the old Gitaly lets go of the volume and the address before the new one takes them")
		attachment, _ := after.Find(attachmentType, "gitaly-cluster-gitaly-"+zone)
		assert.True(t, attachment.DeleteBeforeReplace)
		assert.True(t, attachment.MustInput(t, "stopInstanceBeforeDetaching").(bool))

		for _, typ := range []string{volumeType, "aws:ec2/networkInterface:NetworkInterface"} {
			old, _ := before.Find(typ, "gitaly-cluster-gitaly-"+zone)
			updated, _ := after.Find(typ, "gitaly-cluster-gitaly-"+zone)
			assert.True(t, reflect.DeepEqual(resourceInputs(old), resourceInputs(updated)),
				"%s %s: not one input changes, so Pulumi neither updates nor replaces it", typ, zone)
			for dep := range closure(after, updated.URN) {
				r, _ := after.ByURN(dep)
				assert.NotEqual(t, instanceType, r.Type, "%s %s depends on no instance", typ, zone)
			}
		}
	}

	// GitLab's order (doc/update/zero_downtime.md): Gitaly node by node, then Praefect node by node, then Rails.
	order := []string{}
	for _, zone := range prodZones {
		order = append(order, "gitaly-cluster-gitaly-"+zone)
	}
	for _, zone := range prodZones {
		order = append(order, "gitaly-cluster-praefect-"+zone)
	}
	for i := 1; i < len(order); i++ {
		previous, _ := after.Find(instanceType, order[i-1])
		current, _ := after.Find(instanceType, order[i])
		assert.True(t, closure(after, current.URN)[previous.URN], "%s waits for %s", order[i], order[i-1])
	}
	last, _ := after.Find(instanceType, order[len(order)-1])
	migrations, _ := after.Find("kubernetes:batch/v1:Job", "gitlab-migrations")
	assert.True(t, closure(after, migrations.URN)[last.URN], "Rails migrates last")
}

// resourceInputs wraps a resource's inputs as one value.
func resourceInputs(r componenttest.Resource) any {
	out := map[string]any{}
	for k, v := range r.Inputs {
		out[string(k)] = componenttest.Plain(v)
	}
	return out
}

// TestAStackMovedOffNFSKeepsDefaultOnAGitalyOfItsOwn follows the way off NFS on prod: first both storages,
// the cluster under its own name; then NFS retired, when GitLab's required "default" moves to an empty Gitaly.
func TestAStackMovedOffNFSKeepsDefaultOnAGitalyOfItsOwn(t *testing.T) {
	moving, _ := load(t, "prod").withGit(map[string]any{"kind": "gitaly-cluster", "keepNfs": true}).run(t)
	require.NoError(t, moving.Err)
	assert.Len(t, moving.OfType("aws:efs/fileSystem:FileSystem"), 1, "NFS serves while repositories move")
	rb := gitlabRB(t, moving)
	assert.Contains(t, rb, "'default' => { 'gitaly_address' => 'unix:/var/opt/gitlab/gitaly/gitaly.socket' },")
	assert.Contains(t, rb, "'cluster' => { 'gitaly_address' => 'tcp://")
	praefect, _ := moving.Find(instanceType, "gitaly-cluster-praefect-eu-west-1a")
	assert.Contains(t, praefect.InputString("userData"), "name: 'cluster',", "Praefect's virtual storage is GitLab's 'cluster'")
	assert.Empty(t, moving.OfType(statefulSetType))

	retired, _ := load(t, "prod").withGit(map[string]any{"kind": "gitaly-cluster", "virtualStorage": "cluster"}).run(t)
	require.NoError(t, retired.Err)
	assert.Empty(t, retired.OfType("aws:efs/fileSystem:FileSystem"), "NFS retired")
	rb = gitlabRB(t, retired)
	assert.Contains(t, rb, "'cluster' => { 'gitaly_address' => 'tcp://")
	assert.Contains(t, rb, "'default' => { 'gitaly_address' => 'tcp://gitaly-default-eu-west-1a.gitlab-gitaly.svc:8075'",
		"GitLab's required default, empty, on a Gitaly of its own")
	sets := retired.OfType(statefulSetType)
	require.Len(t, sets, 1)
	for _, instance := range []string{"gitaly-cluster-praefect-eu-west-1a", "gitaly-cluster-gitaly-eu-west-1a"} {
		before, _ := moving.Find(instanceType, instance)
		after, _ := retired.Find(instanceType, instance)
		assert.Equal(t, before.InputString("userData"), after.InputString("userData"), "retiring NFS replaces no instance of the cluster")
	}
}
