package componentpkg

import (
	"strings"
	"unicode"
)

// nameOverrides are the Go fields whose schema names the general rule would spell otherwise than the
// components' own errors do: a package user reads the name they typed in the error.
var nameOverrides = map[string]string{
	"VPCCNI": "vpcCni", // "addons.vpcCni: ..." (components/cluster/eks_args.go); two acronyms run together
	"IPv4":   "ipv4",
}

// upperAcronyms stay upper case where the components' errors keep them so: externalURL, gitLabURL,
// gitStorage.keepNFS, transitionToIA (and vpcId, publicAccessCidrs for the others).
var upperAcronyms = map[string]bool{"URL": true, "NFS": true, "IA": true}

// PropertyName is the schema's name for a Go field, as the components' errors name it: lowerCamelCase, an
// acronym counting as one word whose first letter alone stays upper case after the first word (VpcID ->
// vpcId, PublicAccessCIDRs -> publicAccessCidrs, SSLMode -> sslMode, DiskSizeGiB -> diskSizeGiB), but URL,
// NFS and IA, which stay upper case (GitLabURL -> gitLabURL).
func PropertyName(field string) string {
	if name, ok := nameOverrides[field]; ok {
		return name
	}
	var b strings.Builder
	for i, word := range words(field) {
		if i == 0 {
			b.WriteString(strings.ToLower(word))
			continue
		}
		if isAcronym(word) && !upperAcronyms[word] {
			word = word[:1] + strings.ToLower(word[1:])
		}
		b.WriteString(word)
	}
	return b.String()
}

// words splits a Go identifier at its case changes: "PublicAccessCIDRs" -> Public, Access, CIDRs. An upper-case
// run is one word, less its last letter when a lower-case letter follows ("SSLMode" -> SSL, Mode), except a
// plural "s" that ends the run ("CIDRs", "IDs").
func words(name string) []string {
	runes := []rune(name)
	var out []string
	start := 0
	for i := 1; i < len(runes); i++ {
		prev, cur := runes[i-1], runes[i]
		switch {
		case unicode.IsLower(prev) && unicode.IsUpper(cur):
		case unicode.IsUpper(prev) && unicode.IsUpper(cur) && i+1 < len(runes) && unicode.IsLower(runes[i+1]) &&
			!pluralAt(runes, i+1):
		case unicode.IsDigit(prev) && unicode.IsUpper(cur):
		default:
			continue
		}
		out = append(out, string(runes[start:i]))
		start = i
	}
	return append(out, string(runes[start:]))
}

// pluralAt says whether runes[i] is an "s" that ends an acronym: the last rune, or followed by an upper-case one.
func pluralAt(runes []rune, i int) bool {
	return runes[i] == 's' && (i+1 == len(runes) || unicode.IsUpper(runes[i+1]))
}

// isAcronym: an upper-case run of two letters or more, with an optional plural "s".
func isAcronym(word string) bool {
	w := strings.TrimSuffix(word, "s")
	if len(w) < 2 {
		return false
	}
	for _, r := range w {
		if !unicode.IsUpper(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
