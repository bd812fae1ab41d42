package componenttest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Request is what an Answer sees of one registration.
type Request struct {
	Type   string
	Name   string
	Inputs resource.PropertyMap
	// ProviderID is the ID of the provider resource that manages this one (its inputs say its region).
	ProviderID string
	// Lookup returns the outputs of a resource registered earlier in the run, by its ID, so that an answer
	// can derive values from what it references (a mount target's IP from its subnet's CIDR, say).
	Lookup func(id string) (resource.PropertyMap, bool)
}

// Answer plays the provider for one resource type: it returns the ID and the outputs.
type Answer func(Request) (id string, outputs resource.PropertyMap, err error)

// InvokeAnswer plays the provider for one data-source function.
type InvokeAnswer func(args resource.PropertyMap) (resource.PropertyMap, error)

func defaultAnswers() map[string]Answer {
	answers := map[string]Answer{}
	for token, answer := range kubernetesAnswers() {
		answers[token] = answer
	}
	for token, answer := range randomAnswers() {
		answers[token] = answer
	}
	for token, answer := range awsAnswers() {
		answers[token] = answer
	}
	for token, answer := range awsS3Answers() {
		answers[token] = answer
	}
	for token, answer := range linodeAnswers() {
		answers[token] = answer
	}
	return answers
}

func defaultInvokes() map[string]InvokeAnswer {
	invokes := map[string]InvokeAnswer{
		"aws:secretsmanager/getSecretVersion:getSecretVersion": awsSecretVersion,
		"aws:ssm/getParameter:getParameter":                    awsSSMParameterValue,
	}
	for token, answer := range awsEKSInvokes() {
		invokes[token] = answer
	}
	for token, answer := range linodeInvokes() {
		invokes[token] = answer
	}
	return invokes
}

// echoAnswer is the answer for any type without its own: outputs are the inputs, the ID is derived from the
// type and name. Provider resources ("pulumi:providers:…") take this path too.
func echoAnswer(req Request) (string, resource.PropertyMap, error) {
	return fakeID(req.Type, req.Name), req.Inputs.Copy(), nil
}

// digest is the root of every deterministic value: the same type and name always give the same bytes.
func digest(parts ...string) []byte {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return sum[:]
}

// hexOf returns n hex characters derived from parts.
func hexOf(n int, parts ...string) string {
	out := ""
	for i := 0; len(out) < n; i++ {
		out += hex.EncodeToString(digest(append(parts, fmt.Sprint(i))...))
	}
	return out[:n]
}

func fakeID(typ, name string) string {
	return name + "-" + hexOf(8, typ, name)
}

// --- Kubernetes --------------------------------------------------------------------------------------------

// clusterScopedKinds are the Kubernetes kinds that have no namespace.
var clusterScopedKinds = map[string]bool{
	"Namespace": true, "PersistentVolume": true, "Node": true, "StorageClass": true, "ClusterRole": true,
	"ClusterRoleBinding": true, "CustomResourceDefinition": true, "PriorityClass": true,
}

func kubernetesAnswers() map[string]Answer {
	tokens := []string{
		"kubernetes:core/v1:Namespace", "kubernetes:core/v1:PersistentVolume",
		"kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap",
		"kubernetes:core/v1:Service", "kubernetes:core/v1:ServiceAccount", "kubernetes:apps/v1:Deployment",
		"kubernetes:apps/v1:StatefulSet", "kubernetes:policy/v1:PodDisruptionBudget",
		"kubernetes:networking.k8s.io/v1:NetworkPolicy", "kubernetes:storage.k8s.io/v1:StorageClass",
	}
	answers := map[string]Answer{}
	for _, token := range tokens {
		answers[token] = kubernetesObject
	}
	return answers
}

// kubernetesObject answers like pulumi-kubernetes: the object as sent, with the name the provider would
// choose when none is given (logical name plus a random-looking suffix), a namespace, a UID, and the status
// fields a controller fills in that the components read back.
func kubernetesObject(req Request) (string, resource.PropertyMap, error) {
	outputs := req.Inputs.Copy()
	kind := req.Type[strings.LastIndex(req.Type, ":")+1:]
	metadata := resource.PropertyMap{}
	if m, ok := outputs["metadata"]; ok && m.IsObject() {
		metadata = m.ObjectValue().Copy()
	}
	name := req.Name + "-" + hexOf(8, req.Type, req.Name)
	if n, ok := metadata["name"]; ok && n.IsString() {
		name = n.StringValue()
	}
	metadata["name"] = resource.NewStringProperty(name)
	metadata["uid"] = resource.NewStringProperty(uuidOf(req.Type, req.Name))
	id := name
	if !clusterScopedKinds[kind] {
		namespace := "default"
		if ns, ok := metadata["namespace"]; ok && ns.IsString() {
			namespace = ns.StringValue()
		}
		metadata["namespace"] = resource.NewStringProperty(namespace)
		id = namespace + "/" + name
	}
	outputs["metadata"] = resource.NewObjectProperty(metadata)
	if kind == "Service" {
		outputs["spec"], outputs["status"] = serviceSpecAndStatus(req, outputs["spec"])
	}
	return id, outputs, nil
}

// serviceSpecAndStatus fills a cluster IP from the service range (unless the Service names one) and, for a LoadBalancer, an ingress address
// from the documentation range 203.0.113.0/24, as a cloud controller would.
func serviceSpecAndStatus(req Request, specValue resource.PropertyValue) (resource.PropertyValue, resource.PropertyValue) {
	spec := resource.PropertyMap{}
	if specValue.IsObject() {
		spec = specValue.ObjectValue().Copy()
	}
	d := digest(req.Type, req.Name)
	// A Service that asks for its cluster IP gets it, as the API server gives it; any other gets one.
	if ip, ok := spec["clusterIP"]; !ok || !ip.IsString() || ip.StringValue() == "" {
		spec["clusterIP"] = resource.NewStringProperty(fmt.Sprintf("10.100.%d.%d", d[0], 1+d[1]%254))
	}
	status := resource.PropertyMap{}
	if t, ok := spec["type"]; ok && t.IsString() && t.StringValue() == "LoadBalancer" {
		ingress := resource.NewObjectProperty(resource.PropertyMap{
			"ip": resource.NewStringProperty(fmt.Sprintf("203.0.113.%d", 1+d[2]%254)),
		})
		status["loadBalancer"] = resource.NewObjectProperty(resource.PropertyMap{
			"ingress": resource.NewArrayProperty([]resource.PropertyValue{ingress}),
		})
	}
	return resource.NewObjectProperty(spec), resource.NewObjectProperty(status)
}

// --- random ------------------------------------------------------------------------------------------------

func randomAnswers() map[string]Answer {
	return map[string]Answer{
		"random:index/randomPassword:RandomPassword": randomString,
		"random:index/randomString:RandomString":     randomString,
		"random:index/randomId:RandomId":             randomID,
	}
}

const (
	lowerChars   = "abcdefghijklmnopqrstuvwxyz"
	upperChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars = "0123456789"
	specialChars = "!@#$%&*()-_=+[]{}<>:?"
)

// randomString answers RandomPassword and RandomString: a deterministic string of the requested length
// drawn from the character classes the inputs allow, so tests can check the value flows where it should.
func randomString(req Request) (string, resource.PropertyMap, error) {
	length := 16
	if v, ok := req.Inputs["length"]; ok && v.IsNumber() {
		length = int(v.NumberValue())
	}
	enabled := func(key string) bool {
		v, ok := req.Inputs[resource.PropertyKey(key)]
		return !ok || !v.IsBool() || v.BoolValue()
	}
	alphabet := ""
	if enabled("lower") {
		alphabet += lowerChars
	}
	if enabled("upper") {
		alphabet += upperChars
	}
	if enabled("numeric") {
		alphabet += numericChars
	}
	if enabled("special") {
		alphabet += specialChars
		if v, ok := req.Inputs["overrideSpecial"]; ok && v.IsString() {
			alphabet = strings.TrimSuffix(alphabet, specialChars) + v.StringValue()
		}
	}
	if alphabet == "" {
		return "", nil, fmt.Errorf("every character class is disabled")
	}
	seed := new(big.Int).SetBytes(digest(req.Type, req.Name, "result"))
	var b strings.Builder
	for i := 0; i < length; i++ {
		if seed.Sign() == 0 {
			seed.SetBytes(digest(req.Type, req.Name, "result", fmt.Sprint(i)))
		}
		index := new(big.Int)
		seed.DivMod(seed, big.NewInt(int64(len(alphabet))), index)
		b.WriteByte(alphabet[index.Int64()])
	}
	outputs := req.Inputs.Copy()
	outputs["result"] = resource.NewStringProperty(b.String())
	if req.Type == "random:index/randomPassword:RandomPassword" {
		outputs["bcryptHash"] = resource.NewStringProperty("$2a$10$" + hexOf(53, req.Name, "bcrypt"))
	}
	return fakeID(req.Type, req.Name), outputs, nil
}

func randomID(req Request) (string, resource.PropertyMap, error) {
	n := 8
	if v, ok := req.Inputs["byteLength"]; ok && v.IsNumber() {
		n = int(v.NumberValue())
	}
	raw, _ := hex.DecodeString(hexOf(2*n, req.Type, req.Name))
	outputs := req.Inputs.Copy()
	outputs["hex"] = resource.NewStringProperty(hex.EncodeToString(raw))
	outputs["b64Std"] = resource.NewStringProperty(base64.StdEncoding.EncodeToString(raw))
	outputs["b64Url"] = resource.NewStringProperty(base64.RawURLEncoding.EncodeToString(raw))
	outputs["dec"] = resource.NewStringProperty(new(big.Int).SetBytes(raw).String())
	return base64.RawURLEncoding.EncodeToString(raw), outputs, nil
}

func uuidOf(parts ...string) string {
	h := hexOf(32, parts...)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
