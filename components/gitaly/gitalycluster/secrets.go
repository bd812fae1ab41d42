package gitalycluster

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// The cluster's secrets (doc/administration/gitaly/praefect/configure.md, "Secrets"), each an SSM
// SecureString parameter under the prefix.
const (
	// externalToken authenticates GitLab to Praefect.
	externalToken = "praefect-external-token"
	// internalToken authenticates Praefect to Gitaly: Gitaly's auth token, which clients never hold.
	internalToken = "praefect-internal-token"
	// databasePassword is Praefect's PostgreSQL password.
	databasePassword = "praefect-database-password"
	// shellSecret authenticates Gitaly's hooks to GitLab's internal API.
	shellSecret = "gitlab-shell-secret"
)

// readers says which role reads which secret: each instance reads only what its service uses.
var readers = map[string][]string{
	"gitaly":   {internalToken, shellSecret},
	"praefect": {externalToken, internalToken, databasePassword},
}

// secrets are the generated values, secret, and their parameters.
type secrets struct {
	values     map[string]pulumi.StringOutput
	parameters map[string]*ssm.Parameter
	key        *kms.Key
}

func (c *GitalyCluster) newSecrets(ctx *pulumi.Context, name string, a GitalyClusterArgs) (*secrets, error) {
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:       pulumi.String("GitLab HA: the Gitaly Cluster's secrets in SSM"),
		EnableKeyRotation: pulumi.Bool(true),
		// A deleted key leaves the parameters unreadable; the month lets a mistake be undone.
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 awstags.For(componentTag, name, a.Tags),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	s := &secrets{values: map[string]pulumi.StringOutput{}, parameters: map[string]*ssm.Parameter{}, key: key}
	for _, secret := range []string{externalToken, internalToken, databasePassword, shellSecret} {
		generated, err := random.NewRandomPassword(ctx, name+"-"+secret, &random.RandomPasswordArgs{
			Length: pulumi.Int(64), Special: pulumi.Bool(false),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, err
		}
		value := pulumi.ToSecret(generated.Result).(pulumi.StringOutput)
		parameter, err := ssm.NewParameter(ctx, name+"-"+secret, &ssm.ParameterArgs{
			Name:        pulumi.String(a.ParameterPrefix + "/" + name + "/" + secret),
			Description: pulumi.String("GitLab HA Gitaly Cluster: " + secret),
			Type:        pulumi.String("SecureString"),
			KeyId:       key.Arn,
			Value:       value,
			Tags:        awstags.For(componentTag, name+"-"+secret, a.Tags),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, err
		}
		s.values[secret], s.parameters[secret] = value, parameter
	}
	return s, nil
}

// newInstanceRole makes a role for one kind of instance, which may read exactly its parameters, decrypting them
// through SSM only, and nothing else: no Session Manager (AmazonSSMManagedInstanceCore would grant
// ssm:GetParameter on every parameter), no other AWS API.
func (c *GitalyCluster) newInstanceRole(ctx *pulumi.Context, name, kind string, a GitalyClusterArgs, s *secrets) (*iam.InstanceProfile, error) {
	roleName := name + "-" + kind
	trust, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Principal": map[string]any{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
		}},
	})
	role, err := iam.NewRole(ctx, roleName, &iam.RoleArgs{
		Description:      pulumi.String("GitLab HA: the Gitaly Cluster's " + kind + " instances"),
		AssumeRolePolicy: pulumi.String(string(trust)),
		Tags:             awstags.For(componentTag, roleName, a.Tags),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	var arns []any
	for _, secret := range readers[kind] {
		arns = append(arns, s.parameters[secret].Arn)
	}
	arns = append(arns, s.key.Arn)
	policy := pulumi.All(arns...).ApplyT(func(v []any) (string, error) {
		parameters := make([]string, len(v)-1)
		for i := range parameters {
			parameters[i] = v[i].(string)
		}
		return readPolicy(parameters, v[len(v)-1].(string), a.Region)
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, roleName, &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, pulumi.Parent(c)); err != nil {
		return nil, err
	}
	return iam.NewInstanceProfile(ctx, roleName, &iam.InstanceProfileArgs{
		Role: role.Name, Tags: awstags.For(componentTag, roleName, a.Tags),
	}, pulumi.Parent(c))
}

// readPolicy grants ssm:GetParameter on exactly these parameters, and kms:Decrypt of their key when SSM asks
// for it in the region.
func readPolicy(parameters []string, keyARN, region string) (string, error) {
	body, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Sid": "OwnParameters", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": parameters},
			{"Sid": "DecryptThroughSSM", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": keyARN,
				"Condition": map[string]any{"StringEquals": map[string]string{"kms:ViaService": "ssm." + region + ".amazonaws.com"}}},
		},
	})
	return string(body), err
}
