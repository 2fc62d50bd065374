package hardening

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// managerUser is the identity the suite's managers run as: bound to the roles of config/rbac
// and nothing else, so every fault scenario also proves those roles are enough.
const managerUser = "igconnect-manager"

// bindManagerRBAC creates managerUser with config/rbac's ClusterRole (manager-role) and
// leader-election Role (in operatorNamespace) bound to it, and returns its kubeconfig.
func (c *cluster) bindManagerRBAC(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(c.dir, "manager.kubeconfig")
	if _, err := c.cp.AddUser(managerUser, nil, path); err != nil {
		t.Fatal(err)
	}
	read := func(name string, into any) {
		b, err := os.ReadFile(filepath.Join(repoRoot, "config", "rbac", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := utilyaml.Unmarshal(b, into); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	role := &rbacv1.ClusterRole{}
	read("role.yaml", role)
	role.Name = "hardening-" + role.Name
	le := &rbacv1.Role{}
	read("leader_election_role.yaml", le)
	le.Namespace = operatorNamespace
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: managerUser}}
	if err := c.kube.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := c.kube.Create(ctx, le); err != nil {
		t.Fatal(err)
	}
	if err := c.kube.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: subject}); err != nil {
		t.Fatal(err)
	}
	if err := c.kube.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: le.Name, Namespace: operatorNamespace},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: le.Name},
		Subjects: subject}); err != nil {
		t.Fatal(err)
	}
	return path
}
