package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// admins gives each of AdminPrincipalARNs an access entry and cluster-admin over the whole cluster. With
// authenticationMode API, access entries are the only way in: without them only the identity that created
// the cluster could ever reach its API, and a CI role or a colleague running the next update would be refused
// on every Kubernetes object.
func (c *EKS) admins(ctx *pulumi.Context, name string, args EKSArgs, cluster *eks.Cluster) error {
	for _, arn := range args.AdminPrincipalARNs {
		key := name + "-admin-" + principalKey(arn)
		entry, err := eks.NewAccessEntry(ctx, key, &eks.AccessEntryArgs{
			ClusterName: cluster.Name, PrincipalArn: pulumi.String(arn), Type: pulumi.String("STANDARD"),
			Tags: awstags.For(componentTag, key, args.Tags),
		}, pulumi.Parent(c))
		if err != nil {
			return err
		}
		if _, err := eks.NewAccessPolicyAssociation(ctx, key, &eks.AccessPolicyAssociationArgs{
			ClusterName: cluster.Name, PrincipalArn: entry.PrincipalArn, PolicyArn: pulumi.String(ClusterAdminPolicyARN),
			AccessScope: &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
		}, pulumi.Parent(c)); err != nil {
			return err
		}
	}
	return nil
}

// principalKey names a principal's resources after the ARN, not its place in the list, so that removing one
// admin leaves the others' entries alone: the role or user name, and six hex digits of the whole ARN (two
// accounts may hold a role of the same name).
func principalKey(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	name := arn[strings.LastIndex(arn, "/")+1:]
	return strings.ToLower(name) + "-" + hex.EncodeToString(sum[:3])
}
