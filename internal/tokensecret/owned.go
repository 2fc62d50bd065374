package tokensecret

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// ownedKeys returns the data keys, labels and annotations s's managedFields show fieldOwner
// setting, whichever the operation (it creates a Secret, then applies to it). A Secret read
// from a cache that strips managedFields shows none.
func ownedKeys(s *corev1.Secret, fieldOwner string) keys {
	owned := keys{}
	for _, mf := range s.ManagedFields {
		if mf.Manager != fieldOwner || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(mf.FieldsV1.GetRawReader()); err != nil {
			continue // unreadable: rely on the values alone
		}
		set.Leaves().Iterate(func(p fieldpath.Path) {
			switch names := fieldNames(p); {
			case len(names) == 2 && names[0] == "data":
				owned.add(fieldData, names[1])
			case len(names) == 3 && names[0] == "metadata" && (names[1] == fieldLabels || names[1] == fieldAnnotations):
				owned.add(names[1], names[2])
			}
		})
	}
	return owned
}

// fieldNames returns p's elements as field names, or nil if one is not a field name (a list
// element, such as an owner reference).
func fieldNames(p fieldpath.Path) []string {
	names := make([]string, 0, len(p))
	for _, pe := range p {
		if pe.FieldName == nil {
			return nil
		}
		names = append(names, *pe.FieldName)
	}
	return names
}

// The maps of a Secret that keys name.
const (
	fieldData        = "data"
	fieldLabels      = "labels"
	fieldAnnotations = "annotations"
)

// keys is a set of keys of a Secret's data, labels and annotations.
type keys map[string]map[string]bool

func (k keys) add(field, key string) {
	if k[field] == nil {
		k[field] = map[string]bool{}
	}
	k[field][key] = true
}

func (k keys) has(field, key string) bool { return k[field][key] }

func (k keys) empty() bool {
	for _, m := range k {
		if len(m) > 0 {
			return false
		}
	}
	return true
}
