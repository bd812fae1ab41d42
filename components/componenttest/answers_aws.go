package componenttest

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// AccountID is the AWS account the mocks answer for.
const AccountID = "123456789012"

// defaultRegion is the region of a resource whose provider names none.
const defaultRegion = "us-east-1"

// awsAnswers play the AWS provider: IDs with the service's prefix, ARNs in the provider's region, addresses
// inside the subnet a resource sits in, endpoints shaped like AWS's.
func awsAnswers() map[string]Answer {
	return map[string]Answer{
		"aws:ec2/vpc:Vpc":                                           awsVPC,
		"aws:ec2/subnet:Subnet":                                     awsWithID("subnet", "subnet"),
		"aws:ec2/internetGateway:InternetGateway":                   awsWithID("igw", "internet-gateway"),
		"aws:ec2/eip:Eip":                                           awsEIP,
		"aws:ec2/natGateway:NatGateway":                             awsNATGateway,
		"aws:ec2/routeTable:RouteTable":                             awsWithID("rtb", "route-table"),
		"aws:ec2/route:Route":                                       awsWithID("r", ""),
		"aws:ec2/routeTableAssociation:RouteTableAssociation":       awsWithID("rtbassoc", ""),
		"aws:ec2/securityGroup:SecurityGroup":                       awsWithID("sg", "security-group"),
		"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":         awsWithID("sg", "security-group"),
		"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": awsWithID("sgr", "security-group-rule"),
		"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   awsWithID("sgr", "security-group-rule"),
		"aws:ec2/flowLog:FlowLog":                                   awsWithID("fl", "vpc-flow-log"),
		"aws:ec2/launchTemplate:LaunchTemplate":                     awsLaunchTemplate,
		"aws:cloudwatch/logGroup:LogGroup":                          awsLogGroup,
		"aws:iam/role:Role":                                         awsIAM("role"),
		"aws:iam/policy:Policy":                                     awsIAM("policy"),
		"aws:iam/openIdConnectProvider:OpenIdConnectProvider":       awsOIDCProvider,
		"aws:iam/rolePolicy:RolePolicy":                             awsWithID("", ""),
		"aws:iam/rolePolicyAttachment:RolePolicyAttachment":         awsWithID("", ""),
		"aws:kms/key:Key":                                           awsKMSKey,
		"aws:kms/alias:Alias":                                       awsWithID("alias", ""),
		"aws:eks/cluster:Cluster":                                   awsEKSCluster,
		"aws:eks/nodeGroup:NodeGroup":                               awsEKSNodeGroup,
		"aws:rds/subnetGroup:SubnetGroup":                           awsNamed("rds", "subgrp"),
		"aws:rds/parameterGroup:ParameterGroup":                     awsNamed("rds", "pg"),
		"aws:rds/instance:Instance":                                 awsRDSInstance,
		"aws:efs/fileSystem:FileSystem":                             awsEFSFileSystem,
		"aws:efs/mountTarget:MountTarget":                           awsEFSMountTarget,
		"aws:efs/backupPolicy:BackupPolicy":                         awsWithID("", ""),
		"aws:efs/fileSystemPolicy:FileSystemPolicy":                 awsWithID("", ""),
		"aws:lb/loadBalancer:LoadBalancer":                          awsLoadBalancer,
		"aws:lb/targetGroup:TargetGroup":                            awsELBv2("targetgroup"),
		"aws:lb/listener:Listener":                                  awsELBv2("listener/net"),
		"aws:autoscaling/attachment:Attachment":                     awsWithID("", ""),
		"aws:elasticache/subnetGroup:SubnetGroup":                   awsNamed("elasticache", "subnetgroup"),
		"aws:elasticache/replicationGroup:ReplicationGroup":         awsReplicationGroup,
		"aws:ec2/networkInterface:NetworkInterface":                 awsNetworkInterface,
		"aws:ec2/instance:Instance":                                 awsInstance,
		"aws:ebs/volume:Volume":                                     awsWithID("vol", "volume"),
		"aws:ec2/volumeAttachment:VolumeAttachment":                 awsWithID("vai", ""),
		"aws:ssm/parameter:Parameter":                               awsSSMParameter,
		"aws:iam/instanceProfile:InstanceProfile":                   awsIAM("instance-profile"),
		"aws:lb/targetGroupAttachment:TargetGroupAttachment":        awsWithID("", ""),
		"aws:sns/topic:Topic":                                       awsSNSTopic,
		"aws:sns/topicPolicy:TopicPolicy":                           awsWithID("", ""),
		"aws:sns/topicSubscription:TopicSubscription":               awsSNSSubscription,
		"aws:cloudwatch/metricAlarm:MetricAlarm":                    awsMetricAlarm,
		"aws:rds/eventSubscription:EventSubscription":               awsNamed("rds", "es"),
	}
}

// awsSNSTopic answers with the topic's ARN, which is also its ID, as SNS does.
func awsSNSTopic(req Request) (string, resource.PropertyMap, error) {
	name := req.nameOr("name")
	arn := awsARN(req, "sns", name)
	outputs := req.Inputs.Copy()
	outputs["name"] = resource.NewStringProperty(name)
	outputs["arn"] = resource.NewStringProperty(arn)
	return arn, outputs, nil
}

// awsSNSSubscription answers with the subscription's ARN: the topic's and an ID.
func awsSNSSubscription(req Request) (string, resource.PropertyMap, error) {
	arn := req.input("topic") + ":" + uuidOf(req.Type, req.Name)
	outputs := req.Inputs.Copy()
	outputs["arn"] = resource.NewStringProperty(arn)
	return arn, outputs, nil
}

// awsMetricAlarm answers with the alarm's name (its ID) and ARN.
func awsMetricAlarm(req Request) (string, resource.PropertyMap, error) {
	name := req.nameOr("name")
	outputs := req.Inputs.Copy()
	outputs["name"] = resource.NewStringProperty(name)
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "cloudwatch", "alarm:"+name))
	return name, outputs, nil
}

// zoneOfSubnet is the zone of the subnet with this ID, "" when the subnet is not one the run made.
func (req Request) zoneOfSubnet(subnetID string) string {
	if subnet, ok := req.Lookup(subnetID); ok {
		if zone, ok := subnet["availabilityZone"]; ok && zone.IsString() {
			return zone.StringValue()
		}
	}
	return ""
}

// awsNetworkInterface answers with an address inside the interface's subnet, and that subnet's zone.
func awsNetworkInterface(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := awsWithID("eni", "network-interface")(req)
	outputs["privateIp"] = resource.NewStringProperty(req.address(req.input("subnetId")))
	outputs["availabilityZone"] = resource.NewStringProperty(req.zoneOfSubnet(req.input("subnetId")))
	return id, outputs, err
}

// awsInstance answers as EC2 does: the instance is in its subnet's zone, or its network interface's, with an
// address there.
func awsInstance(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := awsWithID("i", "instance")(req)
	subnet := req.input("subnetId")
	if interfaces, ok := req.Inputs["networkInterfaces"]; ok && interfaces.IsArray() && len(interfaces.ArrayValue()) > 0 {
		first := interfaces.ArrayValue()[0]
		if first.IsObject() {
			if eni, ok := first.ObjectValue()["networkInterfaceId"]; ok && eni.IsString() {
				if found, ok := req.Lookup(eni.StringValue()); ok {
					if s, ok := found["subnetId"]; ok && s.IsString() {
						subnet = s.StringValue()
					}
					if ip, ok := found["privateIp"]; ok {
						outputs["privateIp"] = ip
					}
				}
			}
		}
	}
	if _, ok := outputs["privateIp"]; !ok {
		outputs["privateIp"] = resource.NewStringProperty(req.address(subnet))
	}
	outputs["subnetId"] = resource.NewStringProperty(subnet)
	outputs["availabilityZone"] = resource.NewStringProperty(req.zoneOfSubnet(subnet))
	outputs["publicIp"] = resource.NewStringProperty("")
	return id, outputs, err
}

// awsSSMParameter answers with the parameter's ARN, which names it.
func awsSSMParameter(req Request) (string, resource.PropertyMap, error) {
	name := req.input("name")
	outputs := req.Inputs.Copy()
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "ssm", "parameter"+name))
	return name, outputs, nil
}

// region is the region of the provider that manages a resource.
func (req Request) region() string {
	if provider, ok := req.Lookup(req.ProviderID); ok {
		if r, ok := provider["region"]; ok && r.IsString() && r.StringValue() != "" {
			return r.StringValue()
		}
	}
	return defaultRegion
}

func (req Request) input(key string) string {
	v, ok := req.Inputs[resource.PropertyKey(key)]
	if ok && v.IsSecret() {
		v = v.SecretValue().Element
	}
	if ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

// nameOr is the named input, or, when the program left it to the provider, the logical name with a random-
// looking suffix, as autonaming makes it.
func (req Request) nameOr(key string) string {
	if name := req.input(key); name != "" {
		return name
	}
	return req.Name + "-" + hexOf(7, req.Type, req.Name)
}

// awsID is an AWS-style ID: the service prefix and 17 hex digits.
func awsID(prefix string, req Request) string {
	return prefix + "-" + hexOf(17, req.Type, req.Name)
}

func awsARN(req Request, service, resourcePath string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, req.region(), AccountID, resourcePath)
}

// awsWithID answers with a prefixed ID and, when arnKind is set, an EC2-style ARN.
func awsWithID(prefix, arnKind string) Answer {
	return func(req Request) (string, resource.PropertyMap, error) {
		id := req.Name + "-" + hexOf(8, req.Type, req.Name)
		if prefix != "" {
			id = awsID(prefix, req)
		}
		outputs := req.Inputs.Copy()
		outputs["id"] = resource.NewStringProperty(id)
		if arnKind != "" {
			outputs["arn"] = resource.NewStringProperty(awsARN(req, "ec2", arnKind+"/"+id))
		}
		return id, outputs, nil
	}
}

// awsNamed answers for resources whose ID is their name (subnet and parameter groups).
func awsNamed(service, kind string) Answer {
	return func(req Request) (string, resource.PropertyMap, error) {
		name := req.nameOr("name")
		outputs := req.Inputs.Copy()
		outputs["name"] = resource.NewStringProperty(name)
		outputs["arn"] = resource.NewStringProperty(awsARN(req, service, kind+":"+name))
		return name, outputs, nil
	}
}

func awsVPC(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := awsWithID("vpc", "vpc")(req)
	outputs["defaultSecurityGroupId"] = resource.NewStringProperty("sg-" + hexOf(17, req.Name, "default-sg"))
	outputs["mainRouteTableId"] = resource.NewStringProperty("rtb-" + hexOf(17, req.Name, "main"))
	return id, outputs, err
}

// awsEIP answers with a public address from the documentation range 198.51.100.0/24.
func awsEIP(req Request) (string, resource.PropertyMap, error) {
	_, outputs, err := awsWithID("", "")(req)
	id := "eipalloc-" + hexOf(17, req.Type, req.Name)
	d := digest(req.Type, req.Name)
	outputs["id"] = resource.NewStringProperty(id)
	outputs["allocationId"] = resource.NewStringProperty(id)
	outputs["publicIp"] = resource.NewStringProperty(fmt.Sprintf("198.51.100.%d", 1+d[0]%254))
	return id, outputs, err
}

func awsNATGateway(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := awsWithID("nat", "natgateway")(req)
	outputs["privateIp"] = resource.NewStringProperty(req.address(req.input("subnetId")))
	return id, outputs, err
}

// address is an address inside the subnet when the program made that subnet, and otherwise (a subnet of
// the caller's, outside the program) a stable address in 10.0.0.0/8 derived from the subnet's ID.
func (req Request) address(subnetID string) string {
	if ip, ok := req.addressInSubnet(subnetID); ok {
		return ip
	}
	d := digest(req.Type, req.Name, subnetID)
	return fmt.Sprintf("10.%d.%d.%d", d[0], d[1], 4+d[2]%250)
}

// addressInSubnet picks a stable host address inside the subnet with this ID, as AWS would assign one.
func (req Request) addressInSubnet(subnetID string) (string, bool) {
	subnet, ok := req.Lookup(subnetID)
	if !ok {
		return "", false
	}
	cidr, ok := subnet["cidrBlock"]
	if !ok || !cidr.IsString() {
		return "", false
	}
	prefix, err := netip.ParsePrefix(cidr.StringValue())
	if err != nil || !prefix.Addr().Is4() {
		return "", false
	}
	hosts := uint32(1) << (32 - prefix.Bits())
	// AWS reserves the first four addresses and the last one of every subnet.
	offset := 4 + binary.BigEndian.Uint32(digest(req.Type, req.Name)[:4])%(hosts-5)
	base := prefix.Addr().As4()
	addr := binary.BigEndian.Uint32(base[:]) + offset
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], addr)
	return netip.AddrFrom4(out).String(), true
}

func awsLaunchTemplate(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := awsWithID("lt", "launch-template")(req)
	outputs["latestVersion"] = resource.NewNumberProperty(1)
	outputs["defaultVersion"] = resource.NewNumberProperty(1)
	return id, outputs, err
}

func awsLogGroup(req Request) (string, resource.PropertyMap, error) {
	name := req.nameOr("name")
	outputs := req.Inputs.Copy()
	outputs["name"] = resource.NewStringProperty(name)
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "logs", "log-group:"+name))
	return name, outputs, nil
}

// awsIAM answers roles and policies: IAM is global, so its ARNs carry no region.
func awsIAM(kind string) Answer {
	return func(req Request) (string, resource.PropertyMap, error) {
		name := req.nameOr("name")
		outputs := req.Inputs.Copy()
		outputs["name"] = resource.NewStringProperty(name)
		outputs["arn"] = resource.NewStringProperty(fmt.Sprintf("arn:aws:iam::%s:%s/%s", AccountID, kind, name))
		return name, outputs, nil
	}
}

// awsOIDCProvider answers as IAM does: the provider's ARN ends in its issuer's host and path.
func awsOIDCProvider(req Request) (string, resource.PropertyMap, error) {
	issuer := strings.TrimPrefix(req.Inputs["url"].StringValue(), "https://")
	arn := fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, issuer)
	outputs := req.Inputs.Copy()
	outputs["arn"] = resource.NewStringProperty(arn)
	return arn, outputs, nil
}

func awsKMSKey(req Request) (string, resource.PropertyMap, error) {
	id := uuidOf(req.Type, req.Name)
	outputs := req.Inputs.Copy()
	outputs["keyId"] = resource.NewStringProperty(id)
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "kms", "key/"+id))
	return id, outputs, nil
}

func awsEKSCluster(req Request) (string, resource.PropertyMap, error) {
	name := req.nameOr("name")
	region := req.region()
	oidc := strings.ToUpper(hexOf(32, req.Name, "oidc"))
	outputs := req.Inputs.Copy()
	outputs["name"] = resource.NewStringProperty(name)
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "eks", "cluster/"+name))
	outputs["endpoint"] = resource.NewStringProperty(fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", oidc, region))
	outputs["certificateAuthority"] = resource.NewObjectProperty(resource.PropertyMap{
		"data": resource.NewStringProperty(base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\nMOCK" + hexOf(16, req.Name) + "\n-----END CERTIFICATE-----\n"))),
	})
	outputs["identities"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{
		"oidcs": resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{
			"issuer": resource.NewStringProperty(fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", region, oidc)),
		})}),
	})})
	vpcConfig := resource.PropertyMap{}
	if v, ok := outputs["vpcConfig"]; ok && v.IsObject() {
		vpcConfig = v.ObjectValue().Copy()
	}
	vpcConfig["clusterSecurityGroupId"] = resource.NewStringProperty("sg-" + hexOf(17, req.Name, "eks-cluster-sg"))
	outputs["vpcConfig"] = resource.NewObjectProperty(vpcConfig)
	outputs["status"] = resource.NewStringProperty("ACTIVE")
	return name, outputs, nil
}

func awsEKSNodeGroup(req Request) (string, resource.PropertyMap, error) {
	name := req.nameOr("nodeGroupName")
	cluster := req.input("clusterName")
	outputs := req.Inputs.Copy()
	outputs["nodeGroupName"] = resource.NewStringProperty(name)
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "eks", fmt.Sprintf("nodegroup/%s/%s/%s", cluster, name, uuidOf(req.Name))))
	outputs["resources"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{
		"autoscalingGroups": resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{
			"name": resource.NewStringProperty("eks-" + name + "-" + uuidOf(req.Name, "asg")),
		})}),
	})})
	outputs["status"] = resource.NewStringProperty("ACTIVE")
	return cluster + ":" + name, outputs, nil
}

func awsRDSInstance(req Request) (string, resource.PropertyMap, error) {
	identifier := req.nameOr("identifier")
	address := fmt.Sprintf("%s.c%s.%s.rds.amazonaws.com", identifier, hexOf(11, req.Name, "rds"), req.region())
	port := 5432.0
	if p, ok := req.Inputs["port"]; ok && p.IsNumber() {
		port = p.NumberValue()
	}
	outputs := req.Inputs.Copy()
	outputs["identifier"] = resource.NewStringProperty(identifier)
	outputs["address"] = resource.NewStringProperty(address)
	outputs["port"] = resource.NewNumberProperty(port)
	outputs["endpoint"] = resource.NewStringProperty(fmt.Sprintf("%s:%d", address, int(port)))
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "rds", "db:"+identifier))
	outputs["resourceId"] = resource.NewStringProperty("db-" + strings.ToUpper(hexOf(26, req.Name, "resource")))
	if v, ok := req.Inputs["manageMasterUserPassword"]; ok && v.IsBool() && v.BoolValue() {
		outputs["masterUserSecrets"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{
			"secretArn":    resource.NewStringProperty(awsARN(req, "secretsmanager", "secret:rds!db-"+uuidOf(req.Name, "secret"))),
			"secretStatus": resource.NewStringProperty("active"),
		})})
	}
	return identifier, outputs, nil
}

func awsEFSFileSystem(req Request) (string, resource.PropertyMap, error) {
	id := "fs-" + hexOf(17, req.Type, req.Name)
	outputs := req.Inputs.Copy()
	outputs["id"] = resource.NewStringProperty(id)
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "elasticfilesystem", "file-system/"+id))
	outputs["dnsName"] = resource.NewStringProperty(fmt.Sprintf("%s.efs.%s.amazonaws.com", id, req.region()))
	return id, outputs, nil
}

// awsEFSMountTarget answers with an address inside the subnet the mount target is placed in, and that
// subnet's zone, as EFS does.
func awsEFSMountTarget(req Request) (string, resource.PropertyMap, error) {
	id := "fsmt-" + hexOf(17, req.Type, req.Name)
	outputs := req.Inputs.Copy()
	outputs["id"] = resource.NewStringProperty(id)
	outputs["ipAddress"] = resource.NewStringProperty(req.address(req.input("subnetId")))
	if subnet, ok := req.Lookup(req.input("subnetId")); ok {
		if zone, ok := subnet["availabilityZone"]; ok && zone.IsString() {
			outputs["availabilityZoneName"] = zone
			outputs["mountTargetDnsName"] = resource.NewStringProperty(fmt.Sprintf("%s.%s.efs.%s.amazonaws.com",
				zone.StringValue(), req.input("fileSystemId"), req.region()))
		}
	}
	return id, outputs, nil
}

func awsLoadBalancer(req Request) (string, resource.PropertyMap, error) {
	name := req.nameOr("name")
	arn := awsARN(req, "elasticloadbalancing", "loadbalancer/net/"+name+"/"+hexOf(16, req.Name))
	outputs := req.Inputs.Copy()
	outputs["name"] = resource.NewStringProperty(name)
	outputs["arn"] = resource.NewStringProperty(arn)
	outputs["arnSuffix"] = resource.NewStringProperty(arnSuffix(arn))
	outputs["dnsName"] = resource.NewStringProperty(fmt.Sprintf("%s-%s.elb.%s.amazonaws.com", name, hexOf(16, req.Name, "dns"), req.region()))
	outputs["zoneId"] = resource.NewStringProperty("Z2IFOLAFXWLO4F")
	return arn, outputs, nil
}

func awsELBv2(kind string) Answer {
	return func(req Request) (string, resource.PropertyMap, error) {
		arn := awsARN(req, "elasticloadbalancing", kind+"/"+req.Name+"/"+hexOf(16, req.Type, req.Name))
		outputs := req.Inputs.Copy()
		outputs["arn"] = resource.NewStringProperty(arn)
		outputs["arnSuffix"] = resource.NewStringProperty(arnSuffix(arn))
		return arn, outputs, nil
	}
}

// arnSuffix is what Elastic Load Balancing's CloudWatch dimensions name a load balancer or target group by:
// the ARN after "loadbalancer/" (net/<name>/<id>), or from "targetgroup/" on.
func arnSuffix(arn string) string {
	resourcePart := arn[strings.LastIndex(arn, ":")+1:]
	return strings.TrimPrefix(resourcePart, "loadbalancer/")
}

func awsReplicationGroup(req Request) (string, resource.PropertyMap, error) {
	id := req.nameOr("replicationGroupId")
	host := fmt.Sprintf("%s.%s.%s.cache.amazonaws.com", id, hexOf(6, req.Name), req.region())
	outputs := req.Inputs.Copy()
	outputs["replicationGroupId"] = resource.NewStringProperty(id)
	outputs["arn"] = resource.NewStringProperty(awsARN(req, "elasticache", "replicationgroup:"+id))
	outputs["primaryEndpointAddress"] = resource.NewStringProperty("master." + host)
	outputs["readerEndpointAddress"] = resource.NewStringProperty("replica." + host)
	if _, ok := outputs["port"]; !ok {
		outputs["port"] = resource.NewNumberProperty(6379)
	}
	// Without cluster mode, ElastiCache names the group's member clusters <group>-001, -002, ...
	if n, ok := req.Inputs["numCacheClusters"]; ok && n.IsNumber() {
		var members []resource.PropertyValue
		for i := 1; i <= int(n.NumberValue()); i++ {
			members = append(members, resource.NewStringProperty(fmt.Sprintf("%s-%03d", id, i)))
		}
		outputs["memberClusters"] = resource.NewArrayProperty(members)
	}
	return id, outputs, nil
}

// untaggableAWSTypes have no tags in the AWS provider's schema.
var untaggableAWSTypes = map[string]bool{
	"aws:ec2/route:Route": true,
	"aws:ec2/routeTableAssociation:RouteTableAssociation": true,
	"aws:iam/rolePolicy:RolePolicy":                       true,
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":   true,
	"aws:kms/alias:Alias":                                 true,
	"aws:efs/mountTarget:MountTarget":                     true,
	"aws:efs/backupPolicy:BackupPolicy":                   true,
	"aws:efs/fileSystemPolicy:FileSystemPolicy":           true,
	"aws:autoscaling/attachment:Attachment":               true,
	"aws:ec2/volumeAttachment:VolumeAttachment":           true,
	"aws:lb/targetGroupAttachment:TargetGroupAttachment":  true,
	"aws:sns/topicPolicy:TopicPolicy":                     true,
	"aws:sns/topicSubscription:TopicSubscription":         true,
}

// UntaggedAWSResources returns "type name" of every AWS resource that can carry tags but has no tag key.
func (r *Result) UntaggedAWSResources(key string) []string {
	var untagged []string
	for _, res := range r.Resources {
		if !res.Custom || !strings.HasPrefix(res.Type, "aws:") || untaggableAWSTypes[res.Type] || s3BucketSettingTypes[res.Type] {
			continue
		}
		if _, ok := res.Input(fmt.Sprintf("tags[%q]", key)); !ok {
			untagged = append(untagged, res.Type+" "+res.Name)
		}
	}
	return untagged
}

// awsSecretVersion answers a Secrets Manager read the way an RDS-managed master secret looks:
// JSON {"username", "password"}, the password derived from the secret's ARN.
func awsSecretVersion(args resource.PropertyMap) (resource.PropertyMap, error) {
	arn := ""
	if v, ok := args["secretId"]; ok && v.IsString() {
		arn = v.StringValue()
	}
	body := fmt.Sprintf(`{"username":"gitlab","password":"%s"}`, hexOf(32, arn, "password"))
	return resource.PropertyMap{
		"arn":           resource.NewStringProperty(arn),
		"id":            resource.NewStringProperty(arn + "|AWSCURRENT"),
		"secretId":      resource.NewStringProperty(arn),
		"secretString":  resource.MakeSecret(resource.NewStringProperty(body)),
		"versionId":     resource.NewStringProperty(uuidOf(arn)),
		"versionStages": resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("AWSCURRENT")}),
	}, nil
}

// EKSVersions are what the mock EKS reports of its Kubernetes versions on 2026-12-02 (getClusterVersions),
// from the EKS release calendar: 1.33 left standard support on 2026-07-29, 1.34's ends on 2026-12-02 (its last
// day), 1.35's on 2027-03-27; 1.36 is the newest.
var EKSVersions = map[string]string{
	"1.32": "EXTENDED_SUPPORT", "1.33": "EXTENDED_SUPPORT", "1.34": "STANDARD_SUPPORT", "1.35": "STANDARD_SUPPORT",
	"1.36": "STANDARD_SUPPORT",
}

// EKSNewestAddons are the newest builds the mock EKS publishes for each add-on and version
// (getAddonVersion with mostRecent): the EKS user guide's kube-proxy and CoreDNS tables, and vpc-cni
// v1.22.3-eksbuild.1 for every version.
var EKSNewestAddons = map[string]map[string]string{
	"vpc-cni":    {"1.33": "v1.22.3-eksbuild.1", "1.34": "v1.22.3-eksbuild.1", "1.35": "v1.22.3-eksbuild.1", "1.36": "v1.22.3-eksbuild.1"},
	"kube-proxy": {"1.33": "v1.33.10-eksbuild.13", "1.34": "v1.34.6-eksbuild.13", "1.35": "v1.35.3-eksbuild.13", "1.36": "v1.36.0-eksbuild.14"},
	"coredns":    {"1.33": "v1.12.4-eksbuild.18", "1.34": "v1.13.2-eksbuild.11", "1.35": "v1.14.3-eksbuild.3", "1.36": "v1.14.3-eksbuild.3"},
}

func awsEKSInvokes() map[string]InvokeAnswer {
	return map[string]InvokeAnswer{
		"aws:index/getCallerIdentity:getCallerIdentity": awsCallerIdentity,
		"aws:eks/getClusterVersions:getClusterVersions": awsEKSClusterVersions,
		"aws:eks/getAddonVersion:getAddonVersion":       awsEKSAddonVersion,
	}
}

// awsCallerIdentity answers as STS does for the mocks' account.
func awsCallerIdentity(resource.PropertyMap) (resource.PropertyMap, error) {
	return resource.PropertyMap{
		"id": resource.NewStringProperty(AccountID), "accountId": resource.NewStringProperty(AccountID),
		"arn": resource.NewStringProperty("arn:aws:iam::" + AccountID + ":user/gitlab-ha"), "userId": resource.NewStringProperty("AIDA" + hexOf(16, "user")),
	}, nil
}

func awsEKSClusterVersions(resource.PropertyMap) (resource.PropertyMap, error) {
	var versions []resource.PropertyValue
	for _, version := range sortedKeys(EKSVersions) {
		versions = append(versions, resource.NewObjectProperty(resource.PropertyMap{
			"clusterType": resource.NewStringProperty("eks"), "clusterVersion": resource.NewStringProperty(version),
			"versionStatus": resource.NewStringProperty(EKSVersions[version]),
		}))
	}
	return resource.PropertyMap{"id": resource.NewStringProperty("eks-versions"), "clusterVersions": resource.NewArrayProperty(versions)}, nil
}

func awsEKSAddonVersion(args resource.PropertyMap) (resource.PropertyMap, error) {
	name, version := args["addonName"].StringValue(), args["kubernetesVersion"].StringValue()
	newest, ok := EKSNewestAddons[name][version]
	if !ok {
		return nil, fmt.Errorf("getAddonVersion: no %s builds for Kubernetes %s", name, version)
	}
	return resource.PropertyMap{
		"id": resource.NewStringProperty(name), "addonName": resource.NewStringProperty(name),
		"kubernetesVersion": resource.NewStringProperty(version), "version": resource.NewStringProperty(newest),
	}, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// awsSSMParameterValue answers the public parameters the stacks read: an Amazon Linux 2023 image's ID.
func awsSSMParameterValue(args resource.PropertyMap) (resource.PropertyMap, error) {
	name := ""
	if v, ok := args["name"]; ok && v.IsString() {
		name = v.StringValue()
	}
	if !strings.HasPrefix(name, "/aws/service/ami-amazon-linux-latest/") {
		return nil, fmt.Errorf("componenttest: no answer for SSM parameter %q", name)
	}
	return resource.PropertyMap{
		"id": resource.NewStringProperty(name), "name": resource.NewStringProperty(name), "type": resource.NewStringProperty("String"),
		"value": resource.NewStringProperty("ami-" + hexOf(17, name)), "insecureValue": resource.NewStringProperty("ami-" + hexOf(17, name)),
	}, nil
}
