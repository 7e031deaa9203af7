package drift

// Finding is what one sync found on one member object that carries the
// digest of the manifest in force: the fields where it differs from the
// manifest.
type Finding struct {
	// Mode is the drift mode in force for the manifest ("correct" unless
	// its policy says otherwise).
	Mode string
	// Fields are the drifted fields, sorted by path; at most FieldLimit,
	// the rest counted in Omitted.
	Fields  []Field
	Omitted int
	// Repaired says the engine applied the manifest over the drift (mode
	// correct); the apply's outcome (the entry's error) tells whether the
	// repair went through.
	Repaired bool
}

// Field is one drifted field.
type Field struct {
	// Path is a JSON pointer (RFC 6901) into the manifest.
	Path string `json:"path"`
	// ValueInMember and ValueInHub are the values as short JSON text (cut
	// to ValueLimit bytes); empty for a value that is absent, and always
	// for a Secret.
	ValueInMember string `json:"valueInMember,omitempty"`
	ValueInHub    string `json:"valueInHub,omitempty"`
	// Manager is the member field manager that holds the field now, when
	// managedFields tell it.
	Manager string `json:"manager,omitempty"`
}

// Paths lists the findings' paths, in order.
func (f *Finding) Paths() []string {
	if f == nil {
		return nil
	}
	out := make([]string, len(f.Fields))
	for i, x := range f.Fields {
		out[i] = x.Path
	}
	return out
}

// Managers lists the distinct managers named by the fields, in order of
// first appearance; "" stands for fields whose manager is not known.
func (f *Finding) Managers() []string {
	if f == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, x := range f.Fields {
		if !seen[x.Manager] {
			seen[x.Manager] = true
			out = append(out, x.Manager)
		}
	}
	return out
}

// Observation is what one successful sync saw of one manifest's member
// object, for the Work's drift record (Next).
type Observation struct {
	// Finding is the drift found, nil for none.
	Finding *Finding
	// HubChange says the sync applied a change of the manifest itself (the
	// object carried another digest, or none): the record of the last
	// episode is history of a manifest that is gone.
	HubChange bool
}
