/*
 * virtio_mmio.c — the virtio-mmio version 2 register file (see
 * virtio_mmio.h).
 *
 * Trust: offset/len/data come from the guest via a KVM MMIO exit.
 */
#include "sandbox/virtio_mmio.h"

#include <string.h>

#include "abi/guest_abi.h"
#include "abi/virtio_defs.h"

void vmmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops,
		void *dev, const struct guest_mem *mem)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	virtq_reset(&t->q);
}

static void device_reset(struct virtio_mmio *t)
{
	t->status = 0;
	t->dev_features_sel = 0;
	t->drv_features_sel = 0;
	t->drv_features = 0;
	t->drv_features_bad = false;
	t->queue_sel = 0;
	t->irq_status = 0;
	virtq_reset(&t->q);
	t->ops->reset(t->dev);
}

static enum vmmio_err reg_read(struct virtio_mmio *t, uint32_t off,
			       uint32_t *val)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		*val = VIRTIO_MMIO_MAGIC;
		return VMMIO_OK;
	case VIRTIO_MMIO_VERSION:
		*val = VIRTIO_MMIO_VERSION_MODERN;
		return VMMIO_OK;
	case VIRTIO_MMIO_DEVICE_ID:
		*val = t->ops->device_id;
		return VMMIO_OK;
	case VIRTIO_MMIO_VENDOR_ID:
		*val = VIRTIO_MMIO_VENDOR_INSTAR;
		return VMMIO_OK;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		*val = t->dev_features_sel == 0 ?
			(uint32_t)t->ops->features :
			t->dev_features_sel == 1 ?
			(uint32_t)(t->ops->features >> 32) : 0u;
		return VMMIO_OK;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		*val = t->queue_sel == 0 ? t->ops->queue_num_max : 0u;
		return VMMIO_OK;
	case VIRTIO_MMIO_QUEUE_READY:
		*val = t->queue_sel == 0 && t->q.ready ? 1u : 0u;
		return VMMIO_OK;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		*val = t->irq_status;
		return VMMIO_OK;
	case VIRTIO_MMIO_STATUS:
		*val = t->status;
		return VMMIO_OK;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		*val = 0; /* the config never changes */
		return VMMIO_OK;
	default:
		return VMMIO_ERR_ACCESS;
	}
}

/* Queue registers may only change for queue 0 while it is not ready. */
static bool queue_writable(const struct virtio_mmio *t)
{
	return t->queue_sel == 0 && !t->q.ready &&
	       (t->status & VIRTIO_STATUS_FEATURES_OK) != 0 &&
	       (t->status & VIRTIO_STATUS_FAILED) == 0;
}

static void set_half(uint64_t *addr, bool high, uint32_t val)
{
	if (high)
		*addr = (*addr & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		*addr = (*addr & ~0xffffffffULL) | val;
}

static enum vmmio_err write_status(struct virtio_mmio *t, uint32_t val)
{
	if (val == 0) {
		device_reset(t);
		return VMMIO_OK;
	}
	const uint32_t known = VIRTIO_STATUS_ACKNOWLEDGE |
		VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |
		VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED;
	/* Bits are only ever added; clearing needs a reset. */
	if ((val & ~known) != 0 || (val & t->status) != t->status)
		return VMMIO_ERR_PROTOCOL;
	uint32_t added = val & ~t->status;
	if ((added & VIRTIO_STATUS_FEATURES_OK) != 0) {
		uint64_t v1 = 1ULL << VIRTIO_F_VERSION_1;
		bool ok = (val & VIRTIO_STATUS_DRIVER) != 0 &&
			  !t->drv_features_bad &&
			  (t->drv_features & ~t->ops->features) == 0 &&
			  (t->drv_features & v1) != 0;
		if (!ok)
			val &= ~VIRTIO_STATUS_FEATURES_OK; /* refused */
	}
	if ((added & VIRTIO_STATUS_DRIVER_OK) != 0 &&
	    (val & VIRTIO_STATUS_FEATURES_OK) == 0)
		return VMMIO_ERR_PROTOCOL;
	t->status = val;
	return VMMIO_OK;
}

static enum vmmio_err reg_write(struct virtio_mmio *t, uint32_t off,
				uint32_t val)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_features_sel = val;
		return VMMIO_OK;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_features_sel = val;
		return VMMIO_OK;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if ((t->status & VIRTIO_STATUS_DRIVER) == 0 ||
		    (t->status & VIRTIO_STATUS_FEATURES_OK) != 0)
			return VMMIO_ERR_PROTOCOL;
		if (t->drv_features_sel == 0)
			set_half(&t->drv_features, false, val);
		else if (t->drv_features_sel == 1)
			set_half(&t->drv_features, true, val);
		else if (val != 0)
			t->drv_features_bad = true;
		return VMMIO_OK;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = val;
		return VMMIO_OK;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (!queue_writable(t))
			return VMMIO_ERR_PROTOCOL;
		t->q.num = val;
		return VMMIO_OK;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (!queue_writable(t))
			return VMMIO_ERR_PROTOCOL;
		set_half(&t->q.desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		return VMMIO_OK;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (!queue_writable(t))
			return VMMIO_ERR_PROTOCOL;
		set_half(&t->q.avail_gpa, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
			 val);
		return VMMIO_OK;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (!queue_writable(t))
			return VMMIO_ERR_PROTOCOL;
		set_half(&t->q.used_gpa, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
			 val);
		return VMMIO_OK;
	case VIRTIO_MMIO_QUEUE_READY:
		if (t->queue_sel != 0 || val > 1)
			return VMMIO_ERR_PROTOCOL;
		if (val == 0) {
			t->q.ready = false;
			return VMMIO_OK;
		}
		if (!queue_writable(t))
			return VMMIO_ERR_PROTOCOL;
		t->queue_err = virtq_activate(&t->q, t->mem,
					      t->ops->queue_num_max);
		return t->queue_err == VQ_OK ? VMMIO_OK : VMMIO_ERR_QUEUE;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (val != 0 || !t->q.ready ||
		    (t->status & VIRTIO_STATUS_DRIVER_OK) == 0 ||
		    (t->status & VIRTIO_STATUS_FAILED) != 0)
			return VMMIO_ERR_PROTOCOL;
		t->notifies++;
		if (!t->ops->queue_notify(t->dev, &t->q))
			return VMMIO_ERR_DEVICE;
		t->irq_status |= VIRTIO_MMIO_INT_VRING;
		return VMMIO_OK;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->irq_status &= ~val;
		return VMMIO_OK;
	case VIRTIO_MMIO_STATUS:
		return write_status(t, val);
	default:
		return VMMIO_ERR_ACCESS;
	}
}

enum vmmio_err vmmio_preconfigure(struct virtio_mmio *t, uint32_t num,
				  uint64_t desc_gpa, uint64_t avail_gpa,
				  uint64_t used_gpa)
{
	device_reset(t);
	t->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		    VIRTIO_STATUS_FEATURES_OK;
	t->drv_features = t->ops->features;
	t->q.num = num;
	t->q.desc_gpa = desc_gpa;
	t->q.avail_gpa = avail_gpa;
	t->q.used_gpa = used_gpa;
	t->queue_err = virtq_activate(&t->q, t->mem, t->ops->queue_num_max);
	if (t->queue_err != VQ_OK) {
		device_reset(t);
		return VMMIO_ERR_QUEUE;
	}
	t->status |= VIRTIO_STATUS_DRIVER_OK;
	return VMMIO_OK;
}

enum vmmio_err vmmio_flush(struct virtio_mmio *t)
{
	if (!t->q.ready || (t->status & VIRTIO_STATUS_DRIVER_OK) == 0 ||
	    (t->status & VIRTIO_STATUS_FAILED) != 0)
		return VMMIO_OK;   /* no queue to serve: nothing to do */
	t->flushes++;
	return t->ops->queue_notify(t->dev, &t->q) ? VMMIO_OK : VMMIO_ERR_DEVICE;
}

enum vmmio_err vmmio_access(struct virtio_mmio *t, uint64_t offset,
			    uint8_t *data, uint32_t len, bool is_write)
{
	if (offset >= GUEST_MMIO_SIZE)
		return VMMIO_ERR_ACCESS;
	uint32_t off = (uint32_t)offset;

	if (off >= VIRTIO_MMIO_CONFIG) {
		/* Config space: read-only, any natural width. */
		uint64_t v;
		if (is_write || (len != 1 && len != 2 && len != 4 && len != 8) ||
		    off % len != 0 ||
		    !t->ops->config_read(t->dev, off - VIRTIO_MMIO_CONFIG, len,
					 &v))
			return VMMIO_ERR_ACCESS;
		memcpy(data, &v, len);
		return VMMIO_OK;
	}
	if (len != 4 || off % 4u != 0)
		return VMMIO_ERR_ACCESS;
	if (is_write) {
		uint32_t v;
		memcpy(&v, data, sizeof(v));
		return reg_write(t, off, v);
	}
	uint32_t v = 0;
	enum vmmio_err e = reg_read(t, off, &v);
	if (e == VMMIO_OK)
		memcpy(data, &v, sizeof(v));
	return e;
}
