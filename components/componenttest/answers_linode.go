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

func linodePostgres(req Request) (string, resource.PropertyMap, error) {
	id, outputs, err := linodeWithID(req)
	host := fmt.Sprintf("a%s-akamai-prod-%s.g2a.akamaidb.net", id, hexOf(6, req.Name))
	outputs["hostPrimary"] = resource.NewStringProperty(host)
	// The private network's host; Linode's managed databases require TLS and say so.
	outputs["hostSecondary"] = resource.NewStringProperty("private-" + host)
	outputs["sslConnection"] = resource.NewBoolProperty(true)
	outputs["port"] = resource.NewNumberProperty(25696) // Linode's managed databases listen on 25696
	outputs["rootUsername"] = resource.NewStringProperty("akmadmin")
	outputs["rootPassword"] = resource.MakeSecret(resource.NewStringProperty(hexOf(24, req.Name, "root")))
	outputs["status"] = resource.NewStringProperty("active")
	return id, outputs, err
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
