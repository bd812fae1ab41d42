package componenttest

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// linodeAnswers play the Linode provider: numeric IDs (Linode's are integers), a base64 kubeconfig as LKE
// returns it, public addresses from the documentation range 192.0.2.0/24.
func linodeAnswers() map[string]Answer {
	return map[string]Answer{
		"linode:index/vpc:Vpc":                                   linodeWithID,
		"linode:index/vpcSubnet:VpcSubnet":                       linodeWithID,
		"linode:index/firewall:Firewall":                         linodeWithID,
		"linode:index/volume:Volume":                             linodeVolume,
		"linode:index/instance:Instance":                         linodeInstance,
		"linode:index/nodeBalancer:NodeBalancer":                 linodeNodeBalancer,
		"linode:index/lkeCluster:LkeCluster":                     linodeLKE,
		"linode:index/databasePostgresqlV2:DatabasePostgresqlV2": linodePostgres,
		"linode:index/objectStorageBucket:ObjectStorageBucket":   linodeBucket,
		"linode:index/objectStorageKey:ObjectStorageKey":         linodeObjectStorageKey,
		"linode:index/token:Token":                               linodeToken,
	}
}

// linodeID is a stable positive integer for a resource.
func linodeID(req Request) int {
	return 100000 + int(binary.BigEndian.Uint32(digest(req.Type, req.Name)[:4])%900000)
}

func linodeWithID(req Request) (string, resource.PropertyMap, error) {
	id := strconv.Itoa(linodeID(req))
	outputs := req.Inputs.Copy()
	outputs["id"] = resource.NewStringProperty(id)
	return id, outputs, nil
}

func linodePublicIP(req Request) string {
	return fmt.Sprintf("192.0.2.%d", 1+digest(req.Type, req.Name, "ip")[0]%254)
}

func linodeVolume(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := linodeWithID(req)
	outputs["filesystemPath"] = resource.NewStringProperty("/dev/disk/by-id/scsi-0Linode_Volume_" + req.input("label"))
	outputs["status"] = resource.NewStringProperty("active")
	return id, outputs, err
}

func linodeInstance(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := linodeWithID(req)
	d := digest(req.Type, req.Name, "private")
	outputs["ipAddress"] = resource.NewStringProperty(linodePublicIP(req))
	outputs["privateIpAddress"] = resource.NewStringProperty(fmt.Sprintf("192.168.%d.%d", 128+d[0]%128, 1+d[1]%254))
	outputs["status"] = resource.NewStringProperty("running")
	return id, outputs, err
}

func linodeNodeBalancer(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := linodeWithID(req)
	outputs["ipv4"] = resource.NewStringProperty(linodePublicIP(req))
	outputs["hostname"] = resource.NewStringProperty(fmt.Sprintf("nb-%s.%s.linodeobjects.com", linodePublicIP(req), req.input("region")))
	return id, outputs, err
}

// linodeLKE answers with the API endpoint, a kubeconfig (base64, as the API returns it) and, per pool, the
// instances of its nodes.
func linodeLKE(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := linodeWithID(req)
	endpoint := fmt.Sprintf("https://%s.%s-1.linodelke.net:443", uuidOf(req.Name), req.input("region"))
	kubeconfig := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: lke%s\n  cluster:\n    server: %s\n"+
		"users:\n- name: lke%s-admin\n  user:\n    token: %s\n", id, endpoint, id, hexOf(64, req.Name, "token"))
	outputs["apiEndpoints"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty(endpoint)})
	outputs["kubeconfig"] = resource.NewStringProperty(base64.StdEncoding.EncodeToString([]byte(kubeconfig)))
	outputs["status"] = resource.NewStringProperty("ready")
	if pools, ok := outputs["pools"]; ok && pools.IsArray() {
		var withNodes []resource.PropertyValue
		for i, pool := range pools.ArrayValue() {
			p := pool.ObjectValue().Copy()
			count := 1
			if c, ok := p["count"]; ok && c.IsNumber() {
				count = int(c.NumberValue())
			}
			var nodes []resource.PropertyValue
			for n := 0; n < count; n++ {
				nodes = append(nodes, resource.NewObjectProperty(resource.PropertyMap{
					"id":         resource.NewStringProperty(fmt.Sprintf("%s-%d-%d", id, i, n)),
					"instanceId": resource.NewNumberProperty(float64(linodeID(Request{Type: req.Type, Name: fmt.Sprintf("%s-%d-%d", req.Name, i, n)}))),
					"status":     resource.NewStringProperty("ready"),
				}))
			}
			p["id"] = resource.NewNumberProperty(float64(linodeID(Request{Type: req.Type, Name: fmt.Sprintf("%s-pool-%d", req.Name, i)})))
			p["nodes"] = resource.NewArrayProperty(nodes)
			withNodes = append(withNodes, resource.NewObjectProperty(p))
		}
		outputs["pools"] = resource.NewArrayProperty(withNodes)
	}
	return id, outputs, err
}

// linodePostgres answers as the pinned provider reads today's API: the API reports two hosts, "primary" and
// "standby" (the read-only replicas, "replica-" names), as in linodego v1.52.0's recorded response
// (test/integration/fixtures/TestDatabaseACLP_List.yaml); the provider fills hostPrimary from "primary" and
// hostSecondary from "secondary", which the API no longer sends (TF linode v2.41.0
// linode/databasepostgresqlv2/framework_models.go), so hostSecondary comes back empty and "standby" is lost.
func linodePostgres(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := linodeWithID(req)
	host := fmt.Sprintf("a%s-akamai-prod-%s.g2a.akamaidb.net", id, hexOf(6, req.Name))
	for key, value := range LinodeDatabaseHosts(map[string]string{"primary": host, "standby": "replica-" + host}) {
		outputs[resource.PropertyKey(key)] = resource.NewStringProperty(value)
	}
	outputs["sslConnection"] = resource.NewBoolProperty(true)
	outputs["port"] = resource.NewNumberProperty(25696) // Linode's managed databases listen on 25696
	outputs["rootUsername"] = resource.NewStringProperty("akmadmin")
	outputs["rootPassword"] = resource.MakeSecret(resource.NewStringProperty(hexOf(24, req.Name, "root")))
	outputs["status"] = resource.NewStringProperty("active")
	return id, outputs, err
}

// LinodeDatabaseHosts maps the API's hosts object to the pinned provider's outputs: hostPrimary from
// "primary", hostSecondary from "secondary"; any other host ("standby") has no output.
func LinodeDatabaseHosts(api map[string]string) map[string]string {
	return map[string]string{"hostPrimary": api["primary"], "hostSecondary": api["secondary"]}
}

// linodeToken answers with a token the provider marks secret.
func linodeToken(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := linodeWithID(req)
	outputs["token"] = resource.MakeSecret(resource.NewStringProperty(hexOf(64, req.Name, "token")))
	outputs["created"] = resource.NewStringProperty("2026-12-02T00:00:00")
	return id, outputs, err
}

// linodeInstanceAddress is the public IPv4 of the instance with a given ID, in the documentation range
// 198.51.100.0/24; linodeInstancePrivate is its address on the data center's private network.
func linodeInstanceAddress(id int) string { return fmt.Sprintf("198.51.100.%d", 1+id%254) }
func linodeInstancePrivate(id int) string {
	return fmt.Sprintf("192.168.%d.%d", 128+id%128, 1+(id/128)%254)
}

// linodeInstances answers getInstances filtered by id, as LKE's nodes are looked up: each instance with a
// public and a private IPv4 address.
func linodeInstances(args resource.PropertyMap) (resource.PropertyMap, error) {
	var instances []resource.PropertyValue
	if filters, ok := args["filters"]; ok && filters.IsArray() {
		for _, filter := range filters.ArrayValue() {
			f := filter.ObjectValue()
			if f["name"].StringValue() != "id" {
				return nil, fmt.Errorf("getInstances: the mock filters by id only, not %q", f["name"].StringValue())
			}
			for _, value := range f["values"].ArrayValue() {
				id, err := strconv.Atoi(value.StringValue())
				if err != nil {
					return nil, fmt.Errorf("getInstances: id %q is not a number", value.StringValue())
				}
				instances = append(instances, resource.NewObjectProperty(resource.PropertyMap{
					"id":               resource.NewNumberProperty(float64(id)),
					"ipAddress":        resource.NewStringProperty(linodeInstanceAddress(id)),
					"privateIpAddress": resource.NewStringProperty(linodeInstancePrivate(id)),
					"ipv4s": resource.NewArrayProperty([]resource.PropertyValue{
						resource.NewStringProperty(linodeInstanceAddress(id)), resource.NewStringProperty(linodeInstancePrivate(id)),
					}),
					"status": resource.NewStringProperty("running"),
				}))
			}
		}
	}
	return resource.PropertyMap{"id": resource.NewStringProperty("instances"), "instances": resource.NewArrayProperty(instances)}, nil
}

// LinodeKubernetesVersions are the minors the mock LKE offers standard clusters (getLkeVersions): 1.35 and
// 1.36, the upstream minors whose end of life (2027-02-28, 2027-06-28) is not yet near on 2026-12-02, which
// Akamai's life cycle policy keeps on LKE. Not a recorded answer: the pre-flight asks the real API on the day.
var LinodeKubernetesVersions = []string{"1.35", "1.36"}

func linodeLKEVersions(resource.PropertyMap) (resource.PropertyMap, error) {
	var versions []resource.PropertyValue
	for _, v := range LinodeKubernetesVersions {
		versions = append(versions, resource.NewObjectProperty(resource.PropertyMap{
			"id": resource.NewStringProperty(v), "tier": resource.NewStringProperty("standard"),
		}))
	}
	return resource.PropertyMap{"id": resource.NewStringProperty("lke-versions"), "versions": resource.NewArrayProperty(versions)}, nil
}

// LinodeRegionCapabilities are the capabilities the mock reports for the regions the tests use. Only
// "Block Storage Encryption" is asked about, and its presence follows linodego's recorded region lists: us-ord
// and us-iad list it, eu-central never does. A region not listed here is refused, so that a test cannot pass on
// a capability nobody recorded.
var LinodeRegionCapabilities = map[string][]string{
	"eu-central": {"Linodes", "NodeBalancers", "Block Storage", "Object Storage", "Kubernetes", "Cloud Firewall", "Managed Databases"},
	"us-ord": {"Linodes", "NodeBalancers", "Block Storage", "Object Storage", "Kubernetes", "Cloud Firewall", "Managed Databases",
		"VPCs", "Block Storage Encryption"},
	"us-iad": {"Linodes", "NodeBalancers", "Block Storage", "Object Storage", "Kubernetes", "Cloud Firewall", "Managed Databases",
		"VPCs", "Block Storage Encryption"},
}

func linodeRegion(args resource.PropertyMap) (resource.PropertyMap, error) {
	id := ""
	if v, ok := args["id"]; ok && v.IsString() {
		id = v.StringValue()
	}
	capabilities, ok := LinodeRegionCapabilities[id]
	if !ok {
		return nil, fmt.Errorf("getRegion: the mock has no recorded capabilities for region %q", id)
	}
	var values []resource.PropertyValue
	for _, c := range capabilities {
		values = append(values, resource.NewStringProperty(c))
	}
	return resource.PropertyMap{
		"id": resource.NewStringProperty(id), "capabilities": resource.NewArrayProperty(values),
		"status": resource.NewStringProperty("ok"),
	}, nil
}

// linodeInvokes answer the Linode data sources the components and the pre-flight use.
func linodeInvokes() map[string]InvokeAnswer {
	return map[string]InvokeAnswer{
		"linode:index/getInstances:getInstances":     linodeInstances,
		"linode:index/getLkeVersions:getLkeVersions": linodeLKEVersions,
		"linode:index/getRegion:getRegion":           linodeRegion,
	}
}

// linodeBucket answers like the provider: the ID is "<region>:<label>", the S3 endpoint is the region's first
// cluster's.
func linodeBucket(req Request) (string, resource.PropertyMap, error) {
	label, region := req.input("label"), req.input("region")
	endpoint := region + "-1.linodeobjects.com"
	outputs := req.Inputs.Copy()
	outputs["cluster"] = resource.NewStringProperty(region + "-1")
	outputs["s3Endpoint"] = resource.NewStringProperty(endpoint)
	outputs["endpoint"] = resource.NewStringProperty(endpoint)
	outputs["endpointType"] = resource.NewStringProperty("E1")
	outputs["hostname"] = resource.NewStringProperty(label + "." + endpoint)
	return region + ":" + label, outputs, nil
}

// linodeObjectStorageKey answers with an access key ID and a secret key, the latter secret as the provider
// marks it; a key with bucket access is limited.
func linodeObjectStorageKey(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := linodeWithID(req)
	access, limited := req.Inputs["bucketAccesses"]
	outputs["accessKey"] = resource.NewStringProperty(strings.ToUpper(hexOf(20, req.Name, "access")))
	outputs["secretKey"] = resource.MakeSecret(resource.NewStringProperty(hexOf(40, req.Name, "secret")))
	outputs["limited"] = resource.NewBoolProperty(limited && access.IsArray() && len(access.ArrayValue()) > 0)
	return id, outputs, err
}
