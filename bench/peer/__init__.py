"""django-helpdesk, the peer run side by side with the service (bench/README.md, "Peer")."""
