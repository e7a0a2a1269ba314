new EventSource("/events").addEventListener("change", () => location.reload());
