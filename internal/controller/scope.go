package controller

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// scope is what one reconcile of one connection reads and learns. Each step takes it
// instead of a chain of parameters; nothing in it outlives the reconcile. The fields before
// the blank line are read once at the start; the rest are filled in by the steps, in order.
type scope struct {
	// conn is the connection; its status is computed at the end (updateStatus).
	conn *igv1.InstagramConnection
	// before is conn as read, to diff status and events against.
	before *igv1.InstagramConnection
	// now is the reconcile's single clock reading.
	now time.Time
	// secretState is what spec.secretName names.
	secretState secretState
	// noToken is true when the Secret holds no token of the connection's (none, taken, or
	// empty): status then reports no token times.
	noToken bool

	// secret is the token Secret as last read or written; nil while there is none.
	secret *corev1.Secret
	// basedOn is the token the Secret held when read, or as this reconcile last wrote it: a
	// write whose Secret got another token meanwhile is dropped, so a newer login always wins.
	basedOn string
	// rec is what the Secret holds, or is to hold once the current step stores it.
	rec tokensecret.Record
	// imported is true while rec is a token a person put in the Secret, not yet adopted;
	// identified and upgradeTried say how far its import got.
	imported, identified, upgradeTried bool
	// stored is true once the Secret is known to hold rec as igconnect's: status mirrors it.
	// written is true once this reconcile wrote rec through the Secret writer.
	stored, written bool
	// failure is the failed call the next step handles.
	failure *callFailure
	// renewed is true once this reconcile stored a renewed token (or an estimated expiry):
	// its next renewal follows from the token alone, not from a request or a back-off that
	// the renewal answered.
	renewed bool
	// renewedAt is when the stored renewal was made; zero when none was.
	renewedAt time.Time
	// validatedAt is when this reconcile proved the token works with a validation call (or
	// the identification of its import); zero when it did not.
	validatedAt time.Time

	// final is the step that ended the reconcile; its action is zero when an error did.
	final step
	// offer is the login offered in status.authorizationURL by actAwaitLogin.
	offer loginOffer
	// retry is the back-off of actRetry.
	retry backoff
	// importEvent tells of an adopted import, in the Connected event (events.go).
	importEvent *importNote
	// refreshedEvent is the message of the Refreshed event of a stored renewal.
	refreshedEvent string
	// rollout is what rolloutRestart did about spec.rolloutRestartTargets.
	rollout rolloutOutcome
	// result is what Reconcile returns.
	result reconcile.Result
}

// loginOffer is what actAwaitLogin found out about the login it asks for.
type loginOffer struct {
	// credentialsMissing, when set, says why no login can be offered: the connection has no app.
	credentialsMissing string
	// url is status.authorizationURL; empty when the operator cannot offer a link.
	url string
}

// backoff is the retry that actRetry scheduled.
type backoff struct {
	attempts int32
	at       time.Time
}

// importNote tells that this reconcile adopted a token a person put in the Secret.
type importNote struct {
	// what says whose token was imported from which Secret.
	what string
	// secret is the Secret, the event's related object.
	secret runtime.Object
}

// newScope starts the reconcile of conn at now.
func newScope(conn *igv1.InstagramConnection, now time.Time) *scope {
	return &scope{conn: conn, before: conn.DeepCopy(), now: now}
}

// state is what decide sees: the scope's facts, with the login's schedule for the token.
func (s *scope) state(l login.Login, p login.Policy, kept bool) tokenState {
	conn := s.conn
	in := tokenState{
		Secret: s.secretState, Rec: s.rec,
		Imported: s.imported, Identified: s.identified, UpgradeTried: s.upgradeTried,
		InSync:          s.inSync(),
		Failure:         s.failure,
		RenewalKept:     kept,
		RejectedMessage: s.rec.RejectedMessage,
		Now:             s.now,
		SecretName:      conn.Spec.SecretName, Pin: conn.Spec.InstagramUserID,
		HadAccount:   s.before.Status.UserID != "",
		LoginCreated: conn.Labels[igv1.LabelManagedBy] == igv1.ManagedByValue,
		NeverReady:   meta.FindStatusCondition(s.before.Status.Conditions, igv1.ConditionReady) == nil,
	}
	if s.rec.HasToken() && !s.imported {
		sched := login.RefreshInput{Now: s.now, IssuedAt: s.rec.IssuedAt, ExpiresAt: s.rec.ExpiresAt,
			RefreshBefore: conn.Spec.RefreshBeforeOrDefault(), UID: conn.UID}
		if !s.renewed {
			sched.Requested, sched.NotBefore = refreshRequested(conn), backoffEnd(conn)
		}
		in.Renewal = l.Schedule(sched)
		in.Validation = p.DecideValidation(s.validationInput())
	}
	return in
}

// inSync reports whether the Secret holds exactly rec as igconnect writes it.
func (s *scope) inSync() bool {
	if s.secret == nil || s.imported {
		return false
	}
	if s.written {
		return true
	}
	probe := s.secret.DeepCopy()
	changed := tokensecret.Apply(probe, s.conn.Name, s.conn.Spec.SecretTemplate, s.rec)
	return !changed && metav1.GetControllerOf(s.secret) != nil
}

// refreshRequested reports whether the refresh annotation carries a value not yet handled.
func refreshRequested(conn *igv1.InstagramConnection) bool {
	v := conn.Annotations[igv1.AnnotationRefreshRequestedAt]
	return v != "" && v != conn.Status.LastHandledRefreshRequest
}

// backoffEnd returns the end of the current back-off, or zero when nothing failed.
func backoffEnd(conn *igv1.InstagramConnection) time.Time {
	if conn.Status.FailedRefreshAttempts == 0 || conn.Status.NextRefreshTime == nil {
		return time.Time{}
	}
	return conn.Status.NextRefreshTime.Time
}
