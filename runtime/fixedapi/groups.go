package fixedapi

import (
	"context"
	"time"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/fixedapi/oas"
	"github.com/exhgen/exhgen/runtime/group"
	"github.com/exhgen/exhgen/runtime/rql"
)

// WithGroups serves the /groups endpoints with g; without it they answer
// 404 (the project's backend always passes it).
func WithGroups(g *group.Service) HandlerOption {
	return func(h *handler) { h.groups = g }
}

func (h *handler) groupService() (*group.Service, error) {
	if h.groups == nil {
		return nil, apierr.ErrNotFound
	}
	return h.groups, nil
}

func toGroup(g *group.Group) *oas.Group {
	return &oas.Group{ID: g.ID, Name: g.Name, Description: g.Description, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

func toMember(m *group.Member) *oas.Member {
	out := &oas.Member{UserID: m.UserID, Email: m.Email, FirstName: m.FirstName, LastName: m.LastName, Roles: m.Roles, Since: m.Since}
	if m.ExpiresAt != nil {
		out.ExpiresAt = oas.NewOptDateTime(*m.ExpiresAt)
	}
	return out
}

// listPage is the page of a list answer; total is absent after
// skipCount().
func listPage(limit, offset int, total *int64) oas.ListPage {
	out := oas.ListPage{Limit: int32(limit), Offset: int32(offset)}
	if total != nil {
		out.Total = oas.NewOptInt64(*total)
	}
	return out
}

func (h *handler) CreateGroup(ctx context.Context, req *oas.GroupInput) (*oas.Group, error) {
	gs, err := h.groupService()
	if err != nil {
		return nil, err
	}
	g, err := gs.Create(ctx, req.Name, req.Description.Or(""))
	if err != nil {
		return nil, err
	}
	return toGroup(g), nil
}

// ListGroups passes on the raw query string (RQL), which rql.Middleware
// keeps in the request context: ogen cannot parse it.
func (h *handler) ListGroups(ctx context.Context) (*oas.GroupList, error) {
	gs, err := h.groupService()
	if err != nil {
		return nil, err
	}
	groups, info, err := gs.List(ctx, rql.RawQuery(ctx))
	if err != nil {
		return nil, err
	}
	out := &oas.GroupList{Data: make([]oas.Group, len(groups)), Page: listPage(info.Limit, info.Offset, info.Total)}
	for i := range groups {
		out.Data[i] = *toGroup(&groups[i])
	}
	return out, nil
}

func (h *handler) GetGroup(ctx context.Context, params oas.GetGroupParams) (*oas.Group, error) {
	gs, err := h.groupService()
	if err != nil {
		return nil, err
	}
	g, err := gs.Get(ctx, params.GroupID)
	if err != nil {
		return nil, err
	}
	return toGroup(g), nil
}

func (h *handler) UpdateGroup(ctx context.Context, req *oas.GroupPatch, params oas.UpdateGroupParams) (*oas.Group, error) {
	gs, err := h.groupService()
	if err != nil {
		return nil, err
	}
	var name, desc *string
	if v, ok := req.Name.Get(); ok {
		name = &v
	}
	if v, ok := req.Description.Get(); ok {
		desc = &v
	}
	g, err := gs.Update(ctx, params.GroupID, name, desc)
	if err != nil {
		return nil, err
	}
	return toGroup(g), nil
}

func (h *handler) DeleteGroup(ctx context.Context, params oas.DeleteGroupParams) error {
	gs, err := h.groupService()
	if err != nil {
		return err
	}
	return gs.Delete(ctx, params.GroupID)
}

func (h *handler) members(list []group.Member, info group.PageInfo) *oas.MemberList {
	out := &oas.MemberList{Data: make([]oas.Member, len(list)), Page: listPage(info.Limit, info.Offset, info.Total)}
	for i := range list {
		out.Data[i] = *toMember(&list[i])
	}
	return out
}

func (h *handler) ListGroupPatients(ctx context.Context, params oas.ListGroupPatientsParams) (*oas.MemberList, error) {
	gs, err := h.groupService()
	if err != nil {
		return nil, err
	}
	list, info, err := gs.ListPatients(ctx, params.GroupID, rql.RawQuery(ctx))
	if err != nil {
		return nil, err
	}
	return h.members(list, info), nil
}

func (h *handler) ListGroupStaff(ctx context.Context, params oas.ListGroupStaffParams) (*oas.MemberList, error) {
	gs, err := h.groupService()
	if err != nil {
		return nil, err
	}
	list, info, err := gs.ListStaff(ctx, params.GroupID, rql.RawQuery(ctx))
	if err != nil {
		return nil, err
	}
	return h.members(list, info), nil
}

func (h *handler) EnlistGroupPatient(ctx context.Context, req *oas.EnlistRequest, params oas.EnlistGroupPatientParams) (*oas.Member, error) {
	gs, err := h.groupService()
	if err != nil {
		return nil, err
	}
	var exp *time.Time
	if v, ok := req.ExpiresAt.Get(); ok {
		exp = &v
	}
	m, err := gs.EnlistPatient(ctx, params.GroupID, params.UserID, exp)
	if err != nil {
		return nil, err
	}
	return toMember(m), nil
}

func (h *handler) UnenlistGroupPatient(ctx context.Context, params oas.UnenlistGroupPatientParams) error {
	gs, err := h.groupService()
	if err != nil {
		return err
	}
	return gs.UnenlistPatient(ctx, params.GroupID, params.UserID)
}

func (h *handler) SetGroupStaff(ctx context.Context, req *oas.StaffRequest, params oas.SetGroupStaffParams) (*oas.Member, error) {
	gs, err := h.groupService()
	if err != nil {
		return nil, err
	}
	m, err := gs.SetStaff(ctx, params.GroupID, params.UserID, req.Roles)
	if err != nil {
		return nil, err
	}
	return toMember(m), nil
}

func (h *handler) RemoveGroupStaff(ctx context.Context, params oas.RemoveGroupStaffParams) error {
	gs, err := h.groupService()
	if err != nil {
		return err
	}
	return gs.RemoveStaff(ctx, params.GroupID, params.UserID)
}
