// Package user manages the people who use a backend: self-service
// registration (subject to the project's registration mode), login with
// email and password, profiles and global roles, plus the core identity
// migrations (users and the signing keys of runtime/auth).
//
// Email addresses are unique by their normalised identifier (EmailKey:
// lower-cased, NFC). Login answers an unknown address exactly like a wrong
// password, with the same cost (SECURITY.md AUTH-7), and upgrades password
// hashes made with outdated parameters (AUTH-2).
package user
