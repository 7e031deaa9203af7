// Package member is the agent's one home for the state of member objects:
// the label-selected informers over the objects Tether manages (Ensure),
// Tether's owned field set of each cached object (kept aside from the
// object, see OwnedFields), the responses of recent applies that stand in
// for objects the watch has not delivered yet, the set of objects this
// process applied per Work, and the REST mapping of member kinds (Kinds).
//
// Objects.Live is the one answer to "what is this member object": the apply
// engine (pkg/apply), garbage collection and Work deletion (pkg/release) and
// the Work status writer (pkg/status/work) all ask it. It never reads the
// apiserver; callers that must not trust a cache miss confirm it with a read
// of their own.
package member
