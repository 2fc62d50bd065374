package instagram

import "testing"

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		want   apiError
		wantOK bool
	}{
		{
			name:   "legacy flat envelope",
			body:   "err_legacy_code_used.json",
			want:   apiError{Type: "OAuthException", Code: 400, Message: "Matching code was not found or was already used.", legacy: true},
			wantOK: true,
		},
		{
			name: "graph envelope",
			body: "err_graph_190_463.json",
			want: apiError{Type: "OAuthException", Code: 190, Subcode: 463, FBTraceID: "A1b2C3",
				Message: "Error validating access token: Session has expired on Friday, 11-Sep-20 06:41:31 PDT. The current time is Wednesday, 18-Nov-20 06:50:07 PST."},
			wantOK: true,
		},
		{
			name:   "graph envelope with is_transient",
			body:   "err_graph_4_throttled.json",
			want:   apiError{Type: "OAuthException", Code: 4, Transient: true, FBTraceID: "E5tU0v", Message: "(#4) Application request limit reached"},
			wantOK: true,
		},
		{
			name:   "graph envelope with message only",
			body:   "err_graph_unsupported_get.json",
			want:   apiError{Message: "Unsupported request - method type: get"},
			wantOK: true,
		},
		{
			name: "graph envelope with user title and message, string codes",
			body: `{"error":{"message":"m","type":"OAuthException","code":"190","error_subcode":"460","is_transient":"false",
				"error_user_title":"Session expired","error_user_msg":"Log in again","fbtrace_id":"x"}}`,
			want: apiError{Type: "OAuthException", Code: 190, Subcode: 460, Message: "m",
				UserTitle: "Session expired", UserMessage: "Log in again", FBTraceID: "x"},
			wantOK: true,
		},
		{
			name:   "wrongly typed fields are dropped, not fatal",
			body:   `{"error":{"message":["x"],"code":{"a":1},"error_subcode":1.5,"type":"OAuthException"}}`,
			want:   apiError{Type: "OAuthException"},
			wantOK: true,
		},
		{
			name:   "old Instagram meta envelope",
			body:   `{"meta":{"error_type":"OAuthAccessTokenException","code":400,"error_message":"The access_token provided is invalid."}}`,
			want:   apiError{Type: "OAuthAccessTokenException", Code: 400, Message: "The access_token provided is invalid.", legacy: true},
			wantOK: true,
		},
		{
			name:   "OAuth 2 string error",
			body:   `{"error":"invalid_request","error_description":"Missing client_id"}`,
			want:   apiError{Type: "invalid_request", Message: "Missing client_id"},
			wantOK: true,
		},
		{name: "success body", body: "long_lived_guide.json"},
		{name: "HTML", body: "err_5xx_html.html"},
		{name: "empty", body: ""},
		{name: "empty error object", body: `{"error":{}}`},
		{name: "null error", body: `{"error":null}`},
		{name: "array", body: `[{"error":{"code":190}}]`},
		{name: "truncated", body: `{"error":{"code":190,"message":"Error valid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseErrorBody(body(t, tt.body))
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("got %+v, %v\nwant %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		ep   Endpoint
		body string
		want Class
	}{
		// api.instagram.com, legacy envelope (§2)
		{"code reused", EndpointCodeExchange, "err_legacy_code_used.json", ClassReauthorize},
		{"code reused, no period", EndpointCodeExchange,
			`{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}`, ClassReauthorize},
		{"verification code (bad code or redirect mismatch)", EndpointCodeExchange, "err_legacy_verification_code.json", ClassReauthorize},
		{"Meta app id used", EndpointCodeExchange, "err_legacy_invalid_platform_app.json", ClassConfiguration},
		{"mismatched redirect_uri", EndpointCodeExchange, "err_legacy_mismatched_redirect.json", ClassConfiguration},
		{"unknown legacy message retries, code 400 is not a Graph code", EndpointCodeExchange,
			`{"error_type":"OAuthException","code":400,"error_message":"Something odd"}`, ClassRetryLater},
		{"legacy code 200 is an HTTP status, not permission error", EndpointCodeExchange,
			`{"error_type":"OAuthException","code":200,"error_message":"Something odd"}`, ClassRetryLater},
		{"legacy invalid token type", EndpointProfile,
			`{"meta":{"error_type":"OAuthAccessTokenException","code":400,"error_message":"The access_token provided is invalid."}}`, ClassReauthorize},
		{"legacy envelope on graph host", EndpointRefresh,
			`{"error_type":"OAuthException","code":400,"error_message":"Invalid platform app"}`, ClassConfiguration},

		// graph.instagram.com, Graph envelope (§3, §4, §6)
		{"190/463 expired", EndpointRefresh, "err_graph_190_463.json", ClassReauthorize},
		{"190/460 password changed", EndpointRefresh, "err_graph_190_460.json", ClassReauthorize},
		{"190/458 app removed", EndpointProfile, "err_graph_190_458.json", ClassReauthorize},
		{"190/459 checkpointed", EndpointProfile, "err_graph_190_459.json", ClassAccount},
		{"190/464 unconfirmed", EndpointRefresh, "err_graph_190_464.json", ClassAccount},
		{"190 no subcode", EndpointProfile, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}`, ClassReauthorize},
		{"102 session", EndpointProfile, `{"error":{"message":"Session key invalid","code":102}}`, ClassReauthorize},
		{"10 permission", EndpointProfile, "err_graph_10_permission.json", ClassReauthorize},
		{"200 permission", EndpointProfile, `{"error":{"message":"(#200) Permissions error","code":200}}`, ClassReauthorize},
		{"299 permission", EndpointProfile, `{"error":{"message":"(#299) x","code":299}}`, ClassReauthorize},
		{"100 invalid parameter", EndpointProfile, "err_graph_100_invalid_param.json", ClassConfiguration},
		{"101 invalid api key", EndpointTokenExchange, `{"error":{"message":"Error validating application. Invalid application ID.","code":101}}`, ClassConfiguration},
		{"bad client secret, code 1", EndpointTokenExchange, "err_graph_client_secret.json", ClassConfiguration},
		{"refresh too young (sandbox's code 100)", EndpointRefresh, "err_graph_100_too_young.json", ClassRetryLater},
		{"unsupported method on dead token", EndpointRefresh, "err_graph_unsupported_get.json", ClassReauthorize},
		{"1 unknown", EndpointRefresh, `{"error":{"message":"An unknown error occurred","code":1}}`, ClassRetryLater},
		{"2 service", EndpointRefresh, "err_graph_2_service.json", ClassRetryLater},
		{"4 app throttled", EndpointRefresh, "err_graph_4_throttled.json", ClassRetryLater},
		{"17 user throttled", EndpointProfile, `{"error":{"message":"(#17) User request limit reached","code":17}}`, ClassRetryLater},
		{"32 page throttled", EndpointProfile, `{"error":{"message":"(#32) Page request limit reached","code":32}}`, ClassRetryLater},
		{"341 app limit", EndpointProfile, `{"error":{"message":"(#341) Application limit reached","code":341}}`, ClassRetryLater},
		{"368 policy block", EndpointProfile, `{"error":{"message":"(#368) Temporarily blocked","code":368}}`, ClassRetryLater},
		{"613 custom limit", EndpointProfile, `{"error":{"message":"(#613) Calls exceeded","code":613}}`, ClassRetryLater},
		{"80002 instagram BUC", EndpointProfile, "err_graph_80002_buc.json", ClassRetryLater},
		{"is_transient wins over code", EndpointProfile, `{"error":{"message":"x","code":190,"is_transient":true}}`, ClassRetryLater},
		{"unknown code retries", EndpointProfile, `{"error":{"message":"x","code":9007}}`, ClassRetryLater},
		{"code-exchange wording does not apply elsewhere", EndpointProfile,
			`{"error":{"message":"Your code was already deployed","code":9}}`, ClassRetryLater},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := parseErrorBody(body(t, tt.body))
			if !ok {
				t.Fatalf("body not recognized as an error envelope")
			}
			if got := classify(tt.ep, a); got != tt.want {
				t.Fatalf("classify = %s, want %s (parsed %+v)", got, tt.want, a)
			}
		})
	}
}

func TestIsRefreshTooEarly(t *testing.T) {
	tooEarly := &Error{Endpoint: EndpointRefresh, Code: 100, Class: ClassRetryLater,
		Message: "(#100) The access token is less than 24 hours old and cannot be refreshed yet"}
	if !IsRefreshTooEarly(tooEarly) {
		t.Error("the sandbox's too-early refusal must be recognised")
	}
	if IsRefreshTooEarly(&Error{Endpoint: EndpointRefresh, Code: 4, Class: ClassRetryLater, Message: "(#4) Application request limit reached"}) {
		t.Error("throttling is not a too-early refusal")
	}
	other := *tooEarly
	other.Endpoint = EndpointProfile
	if IsRefreshTooEarly(&other) || IsRefreshTooEarly(nil) {
		t.Error("only a refresh can be too early")
	}
}
