// The index: reloads when the folder changes (the table is rendered by the server).
mailtpl.onFolder(() => location.reload());
