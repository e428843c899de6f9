// Package sshsign signs and verifies cutover commands with SSH keys, in
// the SSHSIG format of ssh-keygen -Y sign, and reads OpenSSH
// allowed_signers files into cutover approvers.
//
// An operator signs with the key they already use for git: a key file
// (LoadKey) or a key held by ssh-agent (Agent). The runner verifies with
// an AllowedSigners, whose lines say who each key belongs to and, by
// their namespaces option, what it may do:
//
//	alice@example.com namespaces="safecutover-start" ssh-ed25519 AAAA...
//	bob@example.com namespaces="safecutover-approve,safecutover-abort" ssh-ed25519 AAAA...
//	oncall@example.com namespaces="safecutover-*" ssh-ed25519 AAAA...
//
// The shortest use:
//
//	as, err := sshsign.ParseAllowedSigners(f)
//	...
//	opts.Approvers = &cutover.Approvers{Entries: as.Approvers(), Verifiers: []cutover.KeyVerifier{as}}
//
// Because the format is OpenSSH's, an auditor can check a signed command
// with ssh-keygen alone: the payload is Signature.Payload, the signature
// Signature.Blob, the namespace the command's role ("safecutover-approve"):
//
//	ssh-keygen -Y verify -f allowed_signers -I bob@example.com -n safecutover-approve -s sig < payload
package sshsign
