package tokensecret

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
)

var (
	issued  = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	expires = issued.Add(60 * 24 * time.Hour)
)

func fullRecord() Record {
	return Record{
		AccessToken: "IGAAtoken", IssuedAt: issued, ExpiresAt: expires,
		UserID: "17841400000000001", Username: "acme", AccountType: "BUSINESS",
		AppScopedUserID: "27640875392278831", GrantedScopes: []string{"instagram_business_basic", "instagram_business_manage_comments"},
	}
}

func TestApplyWritesTheContractKeysAndLabels(t *testing.T) {
	s := &corev1.Secret{}
	tmpl := &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{"reloader.stakater.com/match": "true"},
		Annotations: map[string]string{"team": "marketing"}}
	if !Apply(s, "acme", tmpl, fullRecord()) {
		t.Fatal("Apply on an empty Secret must report a change")
	}
	want := map[string]string{
		"access_token": "IGAAtoken", "token_type": "bearer", "expires_at": "2026-12-31T10:00:00Z",
		"user_id": "17841400000000001", "username": "acme",
	}
	if len(s.Data) != len(want) {
		t.Fatalf("data keys = %d, want %d: %v", len(s.Data), len(want), s.Data)
	}
	for k, v := range want {
		if got := string(s.Data[k]); got != v {
			t.Errorf("data[%s] = %q, want %q", k, got, v)
		}
	}
	if s.Type != corev1.SecretTypeOpaque {
		t.Errorf("type = %q", s.Type)
	}
	for k, v := range map[string]string{igv1.LabelManagedBy: "igconnect", igv1.LabelConnection: "acme",
		"reloader.stakater.com/match": "true"} {
		if s.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, s.Labels[k], v)
		}
	}
	if s.Annotations["team"] != "marketing" || s.Annotations[igv1.AnnotationTokenIssuedAt] != "2026-11-01T10:00:00Z" {
		t.Errorf("annotations = %v", s.Annotations)
	}
	for k, v := range s.Annotations {
		if v == "IGAAtoken" {
			t.Errorf("annotation %s holds the token", k)
		}
	}
}

func TestApplyIsIdempotentAndReadRoundTrips(t *testing.T) {
	s := &corev1.Secret{}
	rec := fullRecord()
	Apply(s, "acme", nil, rec)
	if Apply(s, "acme", nil, rec) {
		t.Fatal("a second Apply of the same record must report no change, or the Secret is rewritten needlessly")
	}
	got := Read(s)
	rec.Fingerprint = Fingerprint(rec.AccessToken)
	if got.AccessToken != rec.AccessToken || !got.IssuedAt.Equal(rec.IssuedAt) || !got.ExpiresAt.Equal(rec.ExpiresAt) ||
		got.UserID != rec.UserID || got.Username != rec.Username || got.AccountType != rec.AccountType ||
		got.AppScopedUserID != rec.AppScopedUserID || len(got.GrantedScopes) != 2 || got.Fingerprint != rec.Fingerprint {
		t.Fatalf("Read(Apply(rec)) = %+v, want %+v", got, rec)
	}
	if got.Imported() {
		t.Error("a token igconnect wrote must not read as imported")
	}
}

func TestApplyKeepsForeignKeysAndRemovesEmptyOnes(t *testing.T) {
	s := &corev1.Secret{Data: map[string][]byte{"other": []byte("x")},
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"keep": "me"}}}
	Apply(s, "acme", nil, fullRecord())
	rec := fullRecord()
	rec.AccessToken, rec.Rejected = "", igv1.ReasonDeauthorized
	if !Apply(s, "acme", nil, rec) {
		t.Fatal("removing the token must be a change")
	}
	if _, ok := s.Data["access_token"]; ok {
		t.Error("access_token must be removed")
	}
	if _, ok := s.Data["token_type"]; ok {
		t.Error("token_type must be removed with the token")
	}
	if string(s.Data["other"]) != "x" || s.Labels["keep"] != "me" {
		t.Error("keys and labels igconnect does not own must be kept")
	}
	if Read(s).Rejected != igv1.ReasonDeauthorized {
		t.Error("the rejection must round-trip")
	}
}

func TestImportedDetectsATokenAPersonPutThere(t *testing.T) {
	s := &corev1.Secret{Data: map[string][]byte{"access_token": []byte("IGAAbyhand\n")}}
	rec := Read(s)
	if rec.AccessToken != "IGAAbyhand" {
		t.Errorf("token = %q: surrounding whitespace from a pasted token must be trimmed", rec.AccessToken)
	}
	if !rec.Imported() {
		t.Error("a token with no fingerprint is imported")
	}
	Apply(s, "acme", nil, fullRecord())
	s.Data["access_token"] = []byte("IGAAreplaced")
	if !Read(s).Imported() {
		t.Error("a token replaced by hand is imported")
	}
}

func TestReadTreatsGarbageAsUnknown(t *testing.T) {
	s := &corev1.Secret{Data: map[string][]byte{"access_token": []byte("t"), "expires_at": []byte("next tuesday")},
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{igv1.AnnotationTokenIssuedAt: "?"}}}
	rec := Read(s)
	if !rec.ExpiresAt.IsZero() || !rec.IssuedAt.IsZero() {
		t.Errorf("unparsable times must read as unknown, got %v / %v", rec.ExpiresAt, rec.IssuedAt)
	}
}

func TestOwnershipOf(t *testing.T) {
	conn := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: "uid-1"}}
	controller := func(uid string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x", UID: types.UID("uid-" + uid), Controller: ptr.To(true)}}
	}
	cases := map[string]struct {
		meta metav1.ObjectMeta
		want Ownership
	}{
		"controlled by the connection":  {metav1.ObjectMeta{OwnerReferences: controller("1")}, OwnedByConnection},
		"controlled by another object":  {metav1.ObjectMeta{OwnerReferences: controller("2")}, Foreign},
		"claimed by another connection": {metav1.ObjectMeta{Labels: map[string]string{igv1.LabelConnection: "other"}}, Foreign},
		"labelled for this connection":  {metav1.ObjectMeta{Labels: map[string]string{igv1.LabelConnection: "acme"}}, Unowned},
		"nobody's":                      {metav1.ObjectMeta{}, Unowned},
		"non-controller owner only": {metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "v1", Kind: "X", Name: "x", UID: "uid-9"}}}, Unowned},
	}
	for name, tc := range cases {
		if got := OwnershipOf(&corev1.Secret{ObjectMeta: tc.meta}, conn); got != tc.want {
			t.Errorf("%s: got %v, want %v", name, got, tc.want)
		}
	}
}

func TestNewRecordTakesTheExpiryFromExpiresInOrAssumesTheLifetime(t *testing.T) {
	now := time.Date(2026, 11, 1, 10, 0, 0, 500, time.FixedZone("CET", 3600))
	profile := instagram.Profile{ID: "27640875392278831", UserID: "17841400000000001", Username: "acme", AccountType: "BUSINESS"}
	known := NewRecord(now, instagram.LongLivedToken{AccessToken: "IGAAt", ExpiresIn: 5184000 * time.Second,
		Permissions: []string{"instagram_business_basic"}}, profile, DefaultTokenLifetime)
	if !known.IssuedAt.Equal(now.Truncate(time.Second)) || known.IssuedAt.Location() != time.UTC {
		t.Errorf("issued at %v, want %v in UTC to the second", known.IssuedAt, now)
	}
	if !known.ExpiresAt.Equal(known.IssuedAt.Add(60*24*time.Hour)) || known.ExpiryEstimated {
		t.Errorf("expires_in is the expiry: got %v (estimated %v)", known.ExpiresAt, known.ExpiryEstimated)
	}
	if known.UserID != profile.UserID || known.Username != "acme" || known.AccountType != "BUSINESS" ||
		known.AppScopedUserID != profile.ID || len(known.GrantedScopes) != 1 {
		t.Errorf("the account and scopes come from /me and the exchange: %+v", known)
	}

	unknown := NewRecord(now, instagram.LongLivedToken{AccessToken: "IGAAt"}, profile, 10*time.Hour)
	if !unknown.ExpiresAt.Equal(unknown.IssuedAt.Add(10*time.Hour)) || !unknown.ExpiryEstimated {
		t.Errorf("without expires_in the lifetime is assumed and marked estimated: %v (estimated %v)",
			unknown.ExpiresAt, unknown.ExpiryEstimated)
	}
}

func TestWithTokenKeepsTheScopesARefreshDoesNotRepeat(t *testing.T) {
	rec := fullRecord()
	rec.Rejected = "kept"
	got := rec.WithToken(instagram.LongLivedToken{AccessToken: "IGAAnew", ExpiresIn: time.Hour}, issued.Add(time.Hour), DefaultTokenLifetime)
	if got.AccessToken != "IGAAnew" || len(got.GrantedScopes) != 2 || got.UserID != rec.UserID || got.Rejected != "kept" {
		t.Errorf("WithToken = %+v", got)
	}
}

func TestRejectedMessageIsKeptOnlyBesideARejection(t *testing.T) {
	rec := fullRecord()
	rec.Rejected, rec.RejectedMessage = igv1.ReasonReauthorizationRequired, "Instagram rejected the token: (#190) logged out"
	s := &corev1.Secret{}
	Apply(s, "acme", nil, rec)
	if got := Read(s); got.Rejected != rec.Rejected || got.RejectedMessage != rec.RejectedMessage {
		t.Fatalf("read back %q / %q", got.Rejected, got.RejectedMessage)
	}
	rec.Rejected = "" // a new token clears the rejection, and its words go with it
	Apply(s, "acme", nil, rec)
	if _, ok := s.Annotations[igv1.AnnotationTokenRejectedMessage]; ok {
		t.Error("a rejection message without a rejection")
	}
}

// holds decides whether the Writer sends anything; the envtest suite shows the requests,
// this table the reasons.
func TestHoldsSeesEveryDifferenceAReaderWould(t *testing.T) {
	conn := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: "uid-1"},
		Spec: igv1.InstagramConnectionSpec{SecretName: "acme-token"}}
	rec := fullRecord()
	c := contentOf(conn.Name, nil, rec)
	written := func() *corev1.Secret {
		s := &corev1.Secret{}
		Apply(s, conn.Name, nil, rec)
		s.OwnerReferences = []metav1.OwnerReference{controllerReference(conn)}
		return s
	}
	// ownedLabel is a managedFields entry of igconnect's that set the label "team".
	ownedLabel := []metav1.ManagedFieldsEntry{{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply,
		FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:team":{}}}}`)}}
	cases := map[string]struct {
		mutate func(*corev1.Secret)
		holds  bool
	}{
		"as written":                {func(*corev1.Secret) {}, true},
		"a person's key and label":  {func(s *corev1.Secret) { s.Data["note"] = []byte("x"); s.Labels["owner"] = "jo" }, true},
		"edited username":           {func(s *corev1.Secret) { s.Data["username"] = []byte("other") }, false},
		"missing annotation":        {func(s *corev1.Secret) { delete(s.Annotations, igv1.AnnotationTokenIssuedAt) }, false},
		"a record key left over":    {func(s *corev1.Secret) { s.Annotations[igv1.AnnotationTokenRejected] = "X" }, false},
		"no controller":             {func(s *corev1.Secret) { s.OwnerReferences = nil }, false},
		"another type":              {func(s *corev1.Secret) { s.Type = corev1.SecretTypeBasicAuth }, false},
		"label igconnect set, gone": {func(s *corev1.Secret) { s.Labels["team"] = "x"; s.ManagedFields = ownedLabel }, false},
		"label someone else set": {func(s *corev1.Secret) {
			s.Labels["team"] = "x"
			s.ManagedFields = []metav1.ManagedFieldsEntry{ownedLabel[0]}
			s.ManagedFields[0].Manager = "kubectl"
		}, true},
	}
	for name, tc := range cases {
		s := written()
		tc.mutate(s)
		if got := holds(s, conn, c, FieldOwner); got != tc.holds {
			t.Errorf("%s: holds = %v, want %v", name, got, tc.holds)
		}
	}
}
