/* Internal interface between the files of the T/CSAE 53-2017 codec
 * (v2x_csae*.c): one walker function per ASN.1 type (uper.h explains the
 * three modes), the enumeration identifier tables they share, and the five
 * message bodies called by the MessageFrame code in v2x_csae.c. */
#ifndef RL_V2X_CSAE_INTERNAL_H
#define RL_V2X_CSAE_INTERNAL_H

#include "roadlog/v2x.h"
#include "uper.h"

/* ASN.1 ranges used in more than one file. */
#define RL__MSGCOUNT_UB 127
#define RL__MOY_UB      527040
#define RL__DSECOND_UB  65535
#define RL__SPEED_UB    8191
#define RL__HEADING_UB  28800

/* Number of identifiers in a table. */
#define RL__NIDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

extern const char *const rl__v2x_time_confidence_ids[40];
extern const char *const rl__v2x_transmission_ids[8];

/* Data frames of DefPosition, DefPositionOffset, DefMotion, DefAcceleration,
 * VehSize, VehClass, MapNode (v2x_csae.c). */
void rl__v2x_position3d(struct rl_per *c, const char *name, struct rl_v2x_position3d *v);
void rl__v2x_node_ref(struct rl_per *c, const char *name, struct rl_v2x_node_ref *v);
void rl__v2x_offset_llv(struct rl_per *c, const char *name, struct rl_v2x_offset_llv *v);
void rl__v2x_pos_confidence(struct rl_per *c, const char *name, struct rl_v2x_pos_confidence *v);
void rl__v2x_pos_accuracy(struct rl_per *c, const char *name, struct rl_v2x_pos_accuracy *v);
void rl__v2x_motion_cfd(struct rl_per *c, const char *name, struct rl_v2x_motion_cfd *v);
void rl__v2x_accel4(struct rl_per *c, const char *name, struct rl_v2x_accel4 *v);
void rl__v2x_vehicle_size(struct rl_per *c, const char *name, struct rl_v2x_vehicle_size *v);
void rl__v2x_vehicle_class(struct rl_per *c, const char *name, struct rl_v2x_vehicle_class *v);
/* DescriptiveName ::= IA5String (SIZE(1..63)) */
void rl__v2x_descriptive_name(struct rl_per *c, const char *name, char *s);

/* The MessageFrame alternatives; name is the path root ("SPAT"). */
void rl__v2x_bsm(struct rl_per *c, const char *name, struct rl_v2x_bsm *v);
void rl__v2x_map(struct rl_per *c, const char *name, struct rl_v2x_map *v);
void rl__v2x_rsm(struct rl_per *c, const char *name, struct rl_v2x_rsm *v);
void rl__v2x_spat(struct rl_per *c, const char *name, struct rl_v2x_spat *v);
void rl__v2x_rsi(struct rl_per *c, const char *name, struct rl_v2x_rsi *v);

#endif
